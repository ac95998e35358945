import { useState } from 'react';
import { api } from '../api/client';
import { useSeries } from '../api/metrics';
import type { Field, Source } from '../api/types';
import { Chart } from '../components/Chart';
import { LabelsInput, ResourceEditor, type FormProps } from '../components/ResourceEditor';
import { ResourceList } from '../components/ResourceList';
import { A, ErrorBox, FormRow, Labels, toast, toastError, useLoad } from '../components/ui';
import { useLive } from '../api/live';
import { ago, formatValue, truthy } from '../lib/format';
import type { FilterItem } from '../lib/listQuery';

export async function setFieldValue(id: string, payload: unknown) {
  try {
    await api.post('/api/action', [{ resource: `field:${id}`, payload }]);
    toast(`sent ${formatValue(payload)} to ${id}`);
  } catch (e) {
    toastError(e);
  }
}

/** Sets a field: a toggle for binary fields, a text box for the rest. */
export function SetValue({ field }: { field: Field }) {
  const [v, setV] = useState('');
  if (field.metricType === 'binary') {
    const on = truthy(field.current?.value);
    return (
      <button
        role="switch"
        aria-checked={on}
        aria-label={`Switch ${field.name || field.id}`}
        className={`switch ${on ? 'on' : ''}`}
        onClick={() => setFieldValue(field.id, on ? 'false' : 'true')}
      >
        <span />
      </button>
    );
  }
  return (
    <form
      className="set-value"
      onSubmit={(e) => {
        e.preventDefault();
        if (v.trim()) void setFieldValue(field.id, v.trim()).then(() => setV(''));
      }}
    >
      <input aria-label={`New value for ${field.id}`} placeholder="set…" value={v} onChange={(e) => setV(e.target.value)} size={6} />
    </form>
  );
}

export function FieldsTable({ fixed, compact }: { fixed?: FilterItem[]; compact?: boolean }) {
  return (
    <ResourceList<Field>
      path="field"
      entityType="field"
      fixed={fixed}
      pageSize={compact ? 10 : 25}
      searchKeys={['id', 'name', 'fieldId']}
      columns={[
        { label: 'Id', sort: 'id', render: (f) => <A to={`/fields/${encodeURIComponent(f.id)}`}>{compact ? `${f.sourceId}.${f.fieldId}` : f.id}</A> },
        { label: 'Name', sort: 'name', render: (f) => f.name },
        { label: 'Value', sort: 'current.value', className: 'value', render: (f) => <span className="field-value">{formatValue(f.current?.value, f.unit)}</span> },
        ...(compact ? [] : [{ label: 'Type', sort: 'metricType', render: (f: Field) => f.metricType }]),
        { label: 'Updated', sort: 'current.timestamp', render: (f) => <span title={f.current?.timestamp ?? ''}>{ago(f.current?.timestamp)}</span> },
        { label: 'Set', render: (f) => <SetValue field={f} /> },
      ]}
    />
  );
}

export function FieldList() {
  return (
    <section>
      <div className="page-head">
        <h1>Fields</h1>
      </div>
      <FieldsTable />
    </section>
  );
}

export function SourceList() {
  return (
    <section>
      <div className="page-head">
        <h1>Sources</h1>
      </div>
      <ResourceList<Source>
        path="source"
        entityType="source"
        searchKeys={['id', 'name']}
        columns={[
          { label: 'Id', sort: 'id', render: (s) => s.id },
          { label: 'Name', sort: 'name', render: (s) => s.name },
          { label: 'Node', sort: 'nodeId', render: (s) => <A to={`/nodes/${encodeURIComponent(`${s.gatewayId}.${s.nodeId}`)}`}>{`${s.gatewayId}.${s.nodeId}`}</A> },
          { label: 'Type', render: (s) => String(s.others?.type ?? s.labels?.type ?? '') },
          { label: 'Last seen', sort: 'lastSeen', render: (s) => ago(s.lastSeen) },
          { label: 'Labels', render: (s) => <Labels labels={s.labels} /> },
        ]}
      />
    </section>
  );
}

export const RANGES = ['-1h', '-6h', '-24h', '-7d', '-30d'];
export const FUNCTIONS = ['mean', 'min', 'max', 'last', 'sum', 'count', 'raw'];

export function History({ field }: { field: Field }) {
  const [range, setRange] = useState('-6h');
  const [fn, setFn] = useState('mean');
  const [kind, setKind] = useState<'line' | 'area' | 'bar'>('line');
  const { data, error } = useSeries({ quickIds: [`field:${field.id}`], range, fn });
  return (
    <div className="card history">
      <div className="page-head">
        <h2>History</h2>
        <span className="spacer" />
        <select aria-label="Time range" value={range} onChange={(e) => setRange(e.target.value)}>
          {RANGES.map((r) => (
            <option key={r} value={r}>
              last {r.slice(1)}
            </option>
          ))}
        </select>
        <select aria-label="Aggregation" value={fn} onChange={(e) => setFn(e.target.value)}>
          {FUNCTIONS.map((f) => (
            <option key={f}>{f}</option>
          ))}
        </select>
        <select aria-label="Chart type" value={kind} onChange={(e) => setKind(e.target.value as 'line')}>
          {['line', 'area', 'bar'].map((k) => (
            <option key={k}>{k}</option>
          ))}
        </select>
      </div>
      <ErrorBox error={error} />
      <div className="chart-box">
        <Chart data={data} labels={[field.name || field.fieldId]} kind={kind} height={260} units={field.unit} />
      </div>
      {data[0].length === 0 && <p className="muted">No points in this range yet.</p>}
    </div>
  );
}

function FieldForm({ value: f, onChange }: FormProps<Field>) {
  return (
    <div className="form">
      <FormRow label="Name">
        <input name="name" value={f.name} onChange={(e) => onChange({ ...f, name: e.target.value })} />
      </FormRow>
      <FormRow label="Unit">
        <input name="unit" value={f.unit} onChange={(e) => onChange({ ...f, unit: e.target.value })} />
      </FormRow>
      <FormRow label="Metric type" hint="how values are kept as history">
        <select value={f.metricType} onChange={(e) => onChange({ ...f, metricType: e.target.value as Field['metricType'] })}>
          {['none', 'string', 'counter', 'gauge', 'gauge_float', 'binary', 'geo'].map((m) => (
            <option key={m}>{m}</option>
          ))}
        </select>
      </FormRow>
      <FormRow label="Formatter on receive" hint="JavaScript; `value` in, new value out">
        <textarea
          rows={3}
          value={String(f.formatter?.onReceive ?? '')}
          onChange={(e) => onChange({ ...f, formatter: e.target.value ? { onReceive: e.target.value } : {} })}
        />
      </FormRow>
      <FormRow label="Labels" hint="one key=value a line">
        <LabelsInput value={f.labels} onChange={(labels) => onChange({ ...f, labels })} />
      </FormRow>
    </div>
  );
}

function LiveField({ id }: { id: string }) {
  const [field, setField] = useState<Field | null>(null);
  const { data } = useLoadField(id);
  useLiveField(id, setField);
  const f = field ?? data;
  if (!f) return null;
  return (
    <>
      <div className="card now">
        <div className="big-value" data-testid="field-value">
          {formatValue(f.current?.value, f.unit)}
        </div>
        <div className="muted">
          {f.current?.isReceived ? 'reported' : 'set'} {ago(f.current?.timestamp)} · previous {formatValue(f.previous?.value, f.unit)}
        </div>
        <SetValue field={f} />
      </div>
      <History field={f} />
    </>
  );
}

function useLoadField(id: string) {
  return useLoad(() => api.get<Field>(`/api/field/${encodeURIComponent(id)}`), [id]);
}
function useLiveField(id: string, set: (f: Field) => void) {
  useLive(['field'], (e) => e.entityId === id && e.type !== 'deleted' && set(e.entity as unknown as Field));
}

export function FieldEdit({ id }: { id: string }) {
  return (
    <ResourceEditor<Field>
      path="field"
      listPath="/fields"
      title="field"
      id={id}
      defaults={{} as Field}
      Form={FieldForm}
      aside={() => <LiveField id={id} />}
    />
  );
}
