import { useState } from 'react';
import { api } from '../api/client';
import { useLive } from '../api/live';
import type { Firmware, ListAnswer, Node } from '../api/types';
import { LabelsInput, ResourceEditor, type FormProps } from '../components/ResourceEditor';
import { ResourceList } from '../components/ResourceList';
import { A, FormRow, Labels, StatusBadge, toast, toastError, useLoad } from '../components/ui';
import { ago, formatValue } from '../lib/format';
import { FieldsTable } from './Fields';

export const NODE_ACTIONS = ['reboot', 'refresh_node_info', 'heartbeat_request', 'reset', 'firmware_update'];

export async function nodeAction(id: string, action: string) {
  try {
    await api.post('/api/action', [{ resource: `node:${id}`, payload: action }]);
    toast(`${action.replace(/_/g, ' ')}: sent to ${id}`);
  } catch (e) {
    toastError(e);
  }
}

function NodeActions({ node }: { node: Node }) {
  return (
    <select
      aria-label={`Action for ${node.id}`}
      value=""
      onChange={(e) => {
        if (e.target.value) void nodeAction(node.id, e.target.value);
      }}
    >
      <option value="">action…</option>
      {NODE_ACTIONS.map((a) => (
        <option key={a} value={a}>
          {a.replace(/_/g, ' ')}
        </option>
      ))}
    </select>
  );
}

function Battery({ n }: { n: Node }) {
  const b = n.others?.battery_level;
  if (b === undefined || b === null || b === '') return <span className="muted">—</span>;
  const v = Number(b);
  return (
    <span className={`battery ${v < 20 ? 'low' : ''}`} title={`${v}%`}>
      <span style={{ width: `${Math.max(0, Math.min(100, v))}%` }} />
      {Math.round(v)}%
    </span>
  );
}

export function NodesTable({ gatewayId, compact }: { gatewayId?: string; compact?: boolean }) {
  return (
    <ResourceList<Node>
      path="node"
      entityType="node"
      fixed={gatewayId ? [{ k: 'gatewayId', o: 'eq', v: gatewayId }] : []}
      searchKeys={['id', 'name']}
      pageSize={compact ? 10 : 25}
      columns={[
        { label: 'Id', sort: 'id', render: (n) => <A to={`/nodes/${encodeURIComponent(n.id)}`}>{n.id}</A> },
        { label: 'Name', sort: 'name', render: (n) => n.name },
        ...(compact
          ? []
          : [
              { label: 'Version', sort: 'labels.version', render: (n: Node) => n.labels?.version ?? '' },
              { label: 'Battery', sort: 'others.battery_level', render: (n: Node) => <Battery n={n} /> },
              { label: 'Signal', sort: 'others.signal_strength', render: (n: Node) => formatValue(n.others?.signal_strength) },
            ]),
        { label: 'State', sort: 'state.status', render: (n) => <StatusBadge status={n.state?.status} title={n.state?.message} /> },
        { label: 'Last seen', sort: 'lastSeen', render: (n) => <span title={n.lastSeen ?? ''}>{ago(n.lastSeen)}</span> },
        ...(compact ? [] : [{ label: 'Actions', render: (n: Node) => <NodeActions node={n} /> }]),
      ]}
    />
  );
}

export function NodeList() {
  return (
    <section>
      <div className="page-head">
        <h1>Nodes</h1>
      </div>
      <NodesTable />
    </section>
  );
}

function NodeForm({ value: n, onChange }: FormProps<Node>) {
  const { data: firmware } = useLoad(() => api.get<ListAnswer<Firmware>>('/api/firmware', { limit: -1 }), []);
  return (
    <div className="form">
      <FormRow label="Name">
        <input name="name" value={n.name} onChange={(e) => onChange({ ...n, name: e.target.value })} />
      </FormRow>
      <FormRow label="Firmware" hint="assigned_firmware label; sent on firmware update or reboot">
        <select
          value={n.labels?.assigned_firmware ?? ''}
          onChange={(e) => {
            const labels = { ...n.labels };
            if (e.target.value) labels.assigned_firmware = e.target.value;
            else delete labels.assigned_firmware;
            onChange({ ...n, labels });
          }}
        >
          <option value="">none</option>
          {firmware?.data.map((f) => (
            <option key={f.id} value={f.id}>
              {f.id} {f.description && `— ${f.description}`}
            </option>
          ))}
        </select>
      </FormRow>
      <FormRow label="Sleeping node" hint="queue messages until the node wakes up">
        <input
          type="checkbox"
          checked={n.labels?.sleep_node === 'true'}
          onChange={(e) => {
            const labels = { ...n.labels };
            if (e.target.checked) labels.sleep_node = 'true';
            else delete labels.sleep_node;
            onChange({ ...n, labels });
          }}
        />
      </FormRow>
      <FormRow label="Labels" hint="one key=value a line">
        <LabelsInput value={n.labels} onChange={(labels) => onChange({ ...n, labels })} />
      </FormRow>
    </div>
  );
}

function OtaProgress({ id }: { id: string }) {
  const [node, setNode] = useState<Node | null>(null);
  const { data } = useLoad(() => api.get<Node>(`/api/node/${encodeURIComponent(id)}`), [id]);
  useLive(['node'], (e) => e.entityId === id && setNode(e.entity as unknown as Node));
  const n = node ?? data;
  if (!n) return null;
  const o = n.others ?? {};
  const total = Number(o.ota_block_total ?? 0);
  const done = Number(o.ota_block_number ?? 0);
  return (
    <div className="card">
      <h2>Device</h2>
      <dl className="facts">
        <dt>State</dt>
        <dd>
          <StatusBadge status={n.state?.status} title={n.state?.message} /> {n.state?.message}
        </dd>
        <dt>Last seen</dt>
        <dd>{ago(n.lastSeen)}</dd>
        <dt>Battery</dt>
        <dd>
          <Battery n={n} />
        </dd>
        {Object.entries(o)
          .filter(([k]) => !k.startsWith('ota_') && k !== 'battery_level')
          .flatMap(([k, v]) => [<dt key={`k-${k}`}>{k}</dt>, <dd key={`v-${k}`}>{formatValue(v)}</dd>])}
      </dl>
      <Labels labels={n.labels} />
      {(o.ota_running || total > 0) && (
        <div className="ota">
          <h3>Firmware update {o.ota_running ? 'running' : String(o.ota_status_on ?? '')}</h3>
          <progress max={total || 1} value={total ? total - done : 0} />
          <span className="muted">
            {total ? `${total - done} of ${total} blocks` : ''} {o.ota_time_taken ? `in ${o.ota_time_taken}` : ''}
          </span>
        </div>
      )}
    </div>
  );
}

export function NodeEdit({ id }: { id: string }) {
  return (
    <ResourceEditor<Node>
      path="node"
      listPath="/nodes"
      title="node"
      id={id}
      defaults={{ id: '', gatewayId: '', nodeId: '', name: '', labels: {}, others: {} }}
      Form={NodeForm}
      actions={(n) => (
        <div className="button-group">
          {NODE_ACTIONS.map((a) => (
            <button key={a} onClick={() => nodeAction(n.id, a)}>
              {a.replace(/_/g, ' ')}
            </button>
          ))}
        </div>
      )}
      aside={(n) => (
        <>
          <OtaProgress id={n.id} />
          <h2>Fields</h2>
          <FieldsTable fixed={[{ k: 'gatewayId', o: 'eq', v: n.gatewayId }, { k: 'nodeId', o: 'eq', v: n.nodeId }]} compact />
        </>
      )}
    />
  );
}
