// Tasks, schedules, handlers and forward payloads: guided forms, a YAML/JSON editor, and state.

import { useMemo } from 'react';
import { api } from '../api/client';
import { useLive } from '../api/live';
import type { ForwardPayload, Handler, ListAnswer, Schedule, Task } from '../api/types';
import { FieldPicker } from '../components/FieldPicker';
import { LabelsInput, ResourceEditor, type FormProps } from '../components/ResourceEditor';
import { ResourceList } from '../components/ResourceList';
import { SettingInput } from '../components/SettingInput';
import { A, FormRow, StatusBadge, useLoad } from '../components/ui';
import { describeCron, nextRuns, parseCron } from '../lib/cron';
import { ago, dateTime } from '../lib/format';
import { OPERATORS } from '../lib/listQuery';
import { setSetting, type Setting } from '../lib/providers';

type Obj = Record<string, unknown>;
const ENTITY_TYPES = ['field', 'node', 'source', 'gateway', 'task', 'schedule', 'handler', 'data_repository', 'firmware'];
const EVENT_TYPES = ['created', 'updated', 'deleted', 'requested'];

function ListHead({ title, to, label }: { title: string; to: string; label: string }) {
  return (
    <div className="page-head">
      <h1>{title}</h1>
      <span className="spacer" />
      <A to={to} className="button primary">
        {label}
      </A>
    </div>
  );
}

function Checks({ all, value, onChange, name }: { all: string[]; value: string[]; onChange: (v: string[]) => void; name: string }) {
  return (
    <span className="checks" role="group" aria-label={name}>
      {all.map((x) => (
        <label key={x} className="inline">
          <input type="checkbox" checked={value.includes(x)} onChange={(e) => onChange(e.target.checked ? [...value, x] : value.filter((y) => y !== x))} /> {x}
        </label>
      ))}
    </span>
  );
}

/** Handlers to notify, picked from those that exist. */
function HandlerPicker({ value, onChange }: { value: string[]; onChange: (v: string[]) => void }) {
  const { data } = useLoad(() => api.get<ListAnswer<Handler>>('/api/handler', { limit: -1 }), []);
  const ids = data?.data.map((h) => h.id) ?? [];
  return ids.length ? <Checks name="Handlers" all={[...new Set([...ids, ...value])]} value={value} onChange={onChange} /> : <span className="muted">No handlers yet — <A to="/handlers/new">create one</A>.</span>;
}

const PARAM_TYPES: Record<string, Setting[]> = {
  resource_by_quick_id: [
    { key: 'quickId', label: 'Resource quick-id', kind: 'text', placeholder: 'field:gw.1.2.V_STATUS' },
    { key: 'payload', label: 'Payload', kind: 'text', placeholder: 'true, toggle, reboot, {{ value }}' },
    { key: 'preDelay', label: 'Delay', kind: 'text', placeholder: '30s' },
  ],
  email: [
    { key: 'subject', label: 'Subject', kind: 'text' },
    { key: 'body', label: 'Body (template)', kind: 'text' },
    { key: 'to', label: 'To', kind: 'text' },
  ],
  telegram: [{ key: 'text', label: 'Text (template)', kind: 'text' }],
  webhook: [
    { key: 'url', label: 'URL', kind: 'text' },
    { key: 'method', label: 'Method', kind: 'select', options: ['GET', 'POST', 'PUT', 'DELETE'] },
  ],
  mqtt: [
    { key: 'topic', label: 'Topic', kind: 'text' },
    { key: 'data', label: 'Data (template)', kind: 'text' },
  ],
  backup: [{ key: 'prefix', label: 'Prefix', kind: 'text' }],
};

function Parameters({ value, onChange }: { value: Obj; onChange: (v: Obj) => void }) {
  const entries = Object.entries(value ?? {}) as [string, Obj][];
  const rename = (from: string, to: string) => onChange(Object.fromEntries(entries.map(([k, v]) => [k === from ? to : k, v])));
  return (
    <div className="params">
      {entries.map(([name, p]) => {
        const type = String(p?.type ?? '');
        return (
          <fieldset key={name}>
            <legend>
              <input aria-label="Parameter name" value={name} onChange={(e) => rename(name, e.target.value)} />
              <select aria-label="Parameter type" value={type} onChange={(e) => onChange({ ...value, [name]: { type: e.target.value } })}>
                {Object.keys(PARAM_TYPES).map((t) => (
                  <option key={t}>{t}</option>
                ))}
                {!PARAM_TYPES[type] && <option>{type}</option>}
              </select>
              <button type="button" className="icon" aria-label={`Remove ${name}`} onClick={() => onChange(Object.fromEntries(entries.filter(([k]) => k !== name)))}>
                ×
              </button>
            </legend>
            {type === 'resource_by_quick_id' && (
              <FormRow label="Field">
                <FieldPicker prefix value={String(p.quickId ?? '')} onChange={(v) => onChange({ ...value, [name]: { ...p, quickId: v } })} />
              </FormRow>
            )}
            {(PARAM_TYPES[type] ?? [])
              .filter((s) => !(type === 'resource_by_quick_id' && s.key === 'quickId'))
              .map((s) => (
                <SettingInput key={s.key} s={s} value={p[s.key]} onChange={(v) => onChange({ ...value, [name]: setSetting(p, s, v) })} />
              ))}
          </fieldset>
        );
      })}
      <button type="button" onClick={() => onChange({ ...value, [`param${entries.length + 1}`]: { type: 'resource_by_quick_id' } })}>
        + parameter
      </button>
    </div>
  );
}

/** Named variables; a field variable is `{type: resource_by_quick_id, quickId}`. */
function Variables({ value, onChange }: { value: Obj; onChange: (v: Obj) => void }) {
  const entries = Object.entries(value ?? {});
  return (
    <div className="params">
      {entries.map(([name, v], i) => {
        const spec = (typeof v === 'object' && v ? v : { type: 'string', value: v }) as Obj;
        return (
          <div key={i} className="filter-row">
            <input aria-label="Variable name" value={name} onChange={(e) => onChange(Object.fromEntries(entries.map(([k, x]) => [k === name ? e.target.value : k, x])))} />
            <select aria-label="Variable type" value={String(spec.type ?? 'string')} onChange={(e) => onChange({ ...value, [name]: { type: e.target.value } })}>
              <option value="resource_by_quick_id">field / resource</option>
              <option value="string">text (template)</option>
              <option value="webhook">webhook</option>
            </select>
            {spec.type === 'resource_by_quick_id' ? (
              <FieldPicker prefix label={`Variable ${name}`} value={String(spec.quickId ?? '')} onChange={(q) => onChange({ ...value, [name]: { ...spec, quickId: q } })} />
            ) : spec.type === 'webhook' ? (
              <input aria-label="URL" placeholder="url" value={String(spec.url ?? '')} onChange={(e) => onChange({ ...value, [name]: { ...spec, url: e.target.value } })} />
            ) : (
              <input aria-label="Value" value={String(spec.value ?? '')} onChange={(e) => onChange({ ...value, [name]: { ...spec, value: e.target.value } })} />
            )}
            <button type="button" className="icon" aria-label={`Remove ${name}`} onClick={() => onChange(Object.fromEntries(entries.filter(([k]) => k !== name)))}>
              ×
            </button>
          </div>
        );
      })}
      <button type="button" onClick={() => onChange({ ...value, [`var${entries.length + 1}`]: { type: 'resource_by_quick_id', quickId: '' } })}>
        + variable
      </button>
    </div>
  );
}

// ---- tasks

const NEW_TASK: Task = {
  id: '',
  description: '',
  labels: {},
  enabled: true,
  ignoreDuplicate: false,
  autoDisable: false,
  reEnable: false,
  reEnableDuration: '',
  variables: {},
  dampening: { type: 'none', occurrences: 0, evaluation: 0, activeDuration: '' },
  triggerOnEvent: true,
  eventFilter: { eventTypes: ['updated'], entityTypes: ['field'], filters: {} },
  executionInterval: '',
  evaluationType: 'rule',
  evaluationConfig: { rule: { matchAll: true, conditions: [] } },
  handlerParameters: {},
  handlers: [],
};

interface Cond {
  variable: string;
  operator: string;
  value: unknown;
}

function TaskForm({ value: t, onChange, errors, isNew }: FormProps<Task>) {
  const rule = ((t.evaluationConfig?.rule as Obj) ?? { matchAll: true, conditions: [] }) as { matchAll: boolean; conditions: Cond[] };
  const setRule = (r: Partial<typeof rule>) => onChange({ ...t, evaluationConfig: { ...t.evaluationConfig, rule: { ...rule, ...r } } });
  const conds = rule.conditions ?? [];
  const filters = Object.entries(t.eventFilter?.filters ?? {});
  const setFilters = (f: [string, unknown][]) => onChange({ ...t, eventFilter: { ...t.eventFilter, filters: Object.fromEntries(f) } });
  return (
    <div className="form">
      <FormRow label="Id" error={errors.id}>
        <input name="id" required readOnly={!isNew} value={t.id} onChange={(e) => onChange({ ...t, id: e.target.value })} />
      </FormRow>
      <FormRow label="Description">
        <input name="description" value={t.description} onChange={(e) => onChange({ ...t, description: e.target.value })} />
      </FormRow>
      <FormRow label="Enabled">
        <input type="checkbox" name="enabled" checked={t.enabled} onChange={(e) => onChange({ ...t, enabled: e.target.checked })} />
      </FormRow>
      <fieldset>
        <legend>When</legend>
        <FormRow label="Trigger">
          <select name="trigger" value={t.triggerOnEvent ? 'event' : 'interval'} onChange={(e) => onChange({ ...t, triggerOnEvent: e.target.value === 'event' })}>
            <option value="event">on events</option>
            <option value="interval">every interval</option>
          </select>
        </FormRow>
        {t.triggerOnEvent ? (
          <>
            <FormRow label="Resources">
              <Checks name="Entity types" all={ENTITY_TYPES} value={t.eventFilter.entityTypes} onChange={(entityTypes) => onChange({ ...t, eventFilter: { ...t.eventFilter, entityTypes } })} />
            </FormRow>
            <FormRow label="Events">
              <Checks name="Event types" all={EVENT_TYPES} value={t.eventFilter.eventTypes} onChange={(eventTypes) => onChange({ ...t, eventFilter: { ...t.eventFilter, eventTypes } })} />
            </FormRow>
            <FormRow label="Only when" hint="key paths of the changed resource, e.g. id or current.value">
              <div className="params">
                {filters.map(([k, v], i) => {
                  const f = (typeof v === 'object' && v && 'operator' in (v as Obj) ? v : { operator: 'eq', value: v }) as Obj;
                  const upd = (nk: string, nf: Obj) => setFilters(filters.map((x, j) => (j === i ? [nk, nf.operator === 'eq' ? nf.value : nf] : x)));
                  return (
                    <div key={i} className="filter-row">
                      <input aria-label="Key path" value={k} onChange={(e) => upd(e.target.value, f)} />
                      <select aria-label="Operator" value={String(f.operator)} onChange={(e) => upd(k, { ...f, operator: e.target.value })}>
                        {OPERATORS.map((o) => (
                          <option key={o.o} value={o.o}>
                            {o.label}
                          </option>
                        ))}
                      </select>
                      <input aria-label="Value" value={String(f.value ?? '')} onChange={(e) => upd(k, { ...f, value: e.target.value })} />
                      <button type="button" className="icon" aria-label="Remove" onClick={() => setFilters(filters.filter((_, j) => j !== i))}>
                        ×
                      </button>
                    </div>
                  );
                })}
                <button type="button" onClick={() => setFilters([...filters, ['id', '']])}>
                  + condition
                </button>
              </div>
            </FormRow>
          </>
        ) : (
          <FormRow label="Every" error={errors.executionInterval}>
            <input name="executionInterval" placeholder="30s" value={t.executionInterval} onChange={(e) => onChange({ ...t, executionInterval: e.target.value })} />
          </FormRow>
        )}
      </fieldset>
      <fieldset>
        <legend>Variables</legend>
        <Variables value={t.variables} onChange={(variables) => onChange({ ...t, variables })} />
      </fieldset>
      <fieldset>
        <legend>If</legend>
        <FormRow label="Evaluate with">
          <select name="evaluationType" value={t.evaluationType} onChange={(e) => onChange({ ...t, evaluationType: e.target.value })}>
            <option value="rule">rule</option>
            <option value="javascript">JavaScript</option>
            <option value="webhook">webhook</option>
          </select>
        </FormRow>
        {t.evaluationType === 'rule' && (
          <>
            <FormRow label="Match">
              <select aria-label="Match" value={rule.matchAll ? 'all' : 'any'} onChange={(e) => setRule({ matchAll: e.target.value === 'all' })}>
                <option value="all">all conditions</option>
                <option value="any">any condition</option>
              </select>
            </FormRow>
            <div className="params">
              {conds.map((c, i) => (
                <div key={i} className="filter-row">
                  <input aria-label="Variable" placeholder="var1.current.value" value={c.variable} onChange={(e) => setRule({ conditions: conds.map((x, j) => (j === i ? { ...x, variable: e.target.value } : x)) })} />
                  <select aria-label="Operator" value={c.operator} onChange={(e) => setRule({ conditions: conds.map((x, j) => (j === i ? { ...x, operator: e.target.value } : x)) })}>
                    {OPERATORS.map((o) => (
                      <option key={o.o} value={o.o}>
                        {o.label}
                      </option>
                    ))}
                  </select>
                  <input aria-label="Value" value={String(c.value ?? '')} onChange={(e) => setRule({ conditions: conds.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)) })} />
                  <button type="button" className="icon" aria-label="Remove condition" onClick={() => setRule({ conditions: conds.filter((_, j) => j !== i) })}>
                    ×
                  </button>
                </div>
              ))}
              <button type="button" onClick={() => setRule({ conditions: [...conds, { variable: `${Object.keys(t.variables)[0] ?? 'var1'}.current.value`, operator: 'eq', value: '' }] })}>
                + condition
              </button>
            </div>
          </>
        )}
        {t.evaluationType === 'javascript' && (
          <FormRow label="Script" hint="return true to notify the handlers">
            <textarea rows={6} value={String(t.evaluationConfig?.javascript ?? '')} onChange={(e) => onChange({ ...t, evaluationConfig: { ...t.evaluationConfig, javascript: e.target.value } })} />
          </FormRow>
        )}
        <FormRow label="Dampening">
          <select value={t.dampening.type || 'none'} onChange={(e) => onChange({ ...t, dampening: { ...t.dampening, type: e.target.value } })}>
            <option value="none">none</option>
            <option value="consecutive">consecutive</option>
            <option value="evaluation">evaluation</option>
            <option value="active_duration">active duration</option>
          </select>
        </FormRow>
        {t.dampening.type === 'consecutive' || t.dampening.type === 'evaluation' ? (
          <FormRow label="Occurrences">
            <input type="number" value={t.dampening.occurrences} onChange={(e) => onChange({ ...t, dampening: { ...t.dampening, occurrences: Number(e.target.value) } })} />
          </FormRow>
        ) : null}
        {t.dampening.type === 'evaluation' && (
          <FormRow label="Within evaluations">
            <input type="number" value={t.dampening.evaluation} onChange={(e) => onChange({ ...t, dampening: { ...t.dampening, evaluation: Number(e.target.value) } })} />
          </FormRow>
        )}
        {t.dampening.type === 'active_duration' && (
          <FormRow label="True for">
            <input placeholder="5m" value={t.dampening.activeDuration} onChange={(e) => onChange({ ...t, dampening: { ...t.dampening, activeDuration: e.target.value } })} />
          </FormRow>
        )}
      </fieldset>
      <fieldset>
        <legend>Then</legend>
        <FormRow label="Notify handlers">
          <HandlerPicker value={t.handlers} onChange={(handlers) => onChange({ ...t, handlers })} />
        </FormRow>
        <FormRow label="With parameters">
          <Parameters value={t.handlerParameters} onChange={(handlerParameters) => onChange({ ...t, handlerParameters })} />
        </FormRow>
        <FormRow label="Once per change" hint="ignore a repeat of the same result">
          <input type="checkbox" checked={t.ignoreDuplicate} onChange={(e) => onChange({ ...t, ignoreDuplicate: e.target.checked })} />
        </FormRow>
        <FormRow label="Disable after firing">
          <input type="checkbox" checked={t.autoDisable} onChange={(e) => onChange({ ...t, autoDisable: e.target.checked })} />
        </FormRow>
        {t.autoDisable && (
          <FormRow label="Enable again after" hint="empty: stays disabled">
            <input
              placeholder="1h"
              value={t.reEnableDuration}
              onChange={(e) => onChange({ ...t, reEnable: !!e.target.value, reEnableDuration: e.target.value })}
            />
          </FormRow>
        )}
      </fieldset>
      <FormRow label="Labels">
        <LabelsInput value={t.labels} onChange={(labels) => onChange({ ...t, labels })} />
      </FormRow>
    </div>
  );
}

function TaskState({ id }: { id: string }) {
  const { data, reload } = useLoad(() => api.get<Task>(`/api/task/${encodeURIComponent(id)}`), [id]);
  useLiveReload('task', id, reload);
  const s = data?.state;
  return (
    <div className="card" data-testid="task-state">
      <h2>State</h2>
      <dl className="facts">
        <dt>Last result</dt>
        <dd>{s?.lastEvaluation ? <StatusBadge status={s.lastStatus ? 'ok' : 'error'} /> : '—'}</dd>
        <dt>Last evaluation</dt>
        <dd>{ago(s?.lastEvaluation)}</dd>
        <dt>Last fired</dt>
        <dd data-testid="task-last-success">{ago(s?.lastSuccess)}</dd>
        <dt>Fired</dt>
        <dd data-testid="task-count">{s?.executedCount ?? 0} times</dd>
        <dt>Message</dt>
        <dd>{s?.message || '—'}</dd>
      </dl>
    </div>
  );
}

function useLiveReload(type: string, id: string, reload: () => void) {
  useLive([type], (e) => e.entityId === id && reload());
}

export function TaskList() {
  return (
    <section>
      <ListHead title="Tasks" to="/tasks/new" label="New task" />
      <ResourceList<Task>
        path="task"
        entityType="task"
        commands={['enable', 'disable', 'reload']}
        searchKeys={['id', 'description']}
        columns={[
          { label: 'Id', sort: 'id', render: (t) => <A to={`/tasks/${encodeURIComponent(t.id)}`}>{t.id}</A> },
          { label: 'Description', sort: 'description', render: (t) => t.description },
          { label: 'Enabled', sort: 'enabled', render: (t) => (t.enabled ? 'yes' : 'no') },
          { label: 'Trigger', render: (t) => (t.triggerOnEvent ? `${t.eventFilter.entityTypes.join(', ')} ${t.eventFilter.eventTypes.join('/')}` : `every ${t.executionInterval}`) },
          { label: 'Last fired', sort: 'state.lastSuccess', render: (t) => ago(t.state?.lastSuccess) },
          { label: 'Count', sort: 'state.executedCount', render: (t) => t.state?.executedCount ?? 0 },
          { label: 'Result', render: (t) => (t.state?.lastEvaluation ? <StatusBadge status={t.state.lastStatus ? 'ok' : 'error'} title={t.state.message} /> : '') },
        ]}
      />
    </section>
  );
}

export function TaskEdit({ id }: { id?: string }) {
  return <ResourceEditor<Task> path="task" listPath="/tasks" title="task" id={id} defaults={NEW_TASK} Form={TaskForm} aside={(t) => <TaskState id={t.id} />} />;
}

// ---- schedules

const NEW_SCHEDULE: Schedule = {
  id: '',
  description: '',
  enabled: true,
  labels: {},
  validity: { enabled: false, date: {}, time: {}, validateTimeEveryday: false },
  type: 'cron',
  spec: { cronExpression: '0 0 7 * * *' },
  variables: {},
  customVariableType: 'none',
  customVariableConfig: {},
  handlerParameters: {},
  handlers: [],
  missedRun: 'skip',
};

export function CronPreview({ expr }: { expr: string }) {
  const preview = useMemo(() => {
    try {
      const c = parseCron(expr);
      return { text: describeCron(c), next: nextRuns(c, new Date(), 5), error: '' };
    } catch (e) {
      return { text: '', next: [], error: (e as Error).message };
    }
  }, [expr]);
  if (preview.error) return <small className="field-error">{preview.error}</small>;
  return (
    <div className="cron-preview" data-testid="cron-preview">
      <strong>{preview.text}</strong>
      <ul>
        {preview.next.map((d) => (
          <li key={d.getTime()}>{d.toLocaleString()}</li>
        ))}
      </ul>
    </div>
  );
}

function ScheduleForm({ value: s, onChange, errors, isNew }: FormProps<Schedule>) {
  const spec = s.spec ?? {};
  const setSpec = (p: Obj) => onChange({ ...s, spec: { ...spec, ...p } });
  const calendar = ['simple', 'sunrise', 'sunset'].includes(s.type);
  return (
    <div className="form">
      <FormRow label="Id" error={errors.id}>
        <input name="id" required readOnly={!isNew} value={s.id} onChange={(e) => onChange({ ...s, id: e.target.value })} />
      </FormRow>
      <FormRow label="Description">
        <input name="description" value={s.description} onChange={(e) => onChange({ ...s, description: e.target.value })} />
      </FormRow>
      <FormRow label="Enabled">
        <input type="checkbox" checked={s.enabled} onChange={(e) => onChange({ ...s, enabled: e.target.checked })} />
      </FormRow>
      <fieldset>
        <legend>When</legend>
        <FormRow label="Kind">
          <select name="type" value={s.type} onChange={(e) => onChange({ ...s, type: e.target.value, spec: {} })}>
            <option value="cron">cron expression</option>
            <option value="repeat">repeat every interval</option>
            <option value="simple">at a time of day</option>
            <option value="sunrise">at sunrise</option>
            <option value="sunset">at sunset</option>
          </select>
        </FormRow>
        {s.type === 'cron' && (
          <FormRow label="Cron" error={errors['spec.cronExpression']} hint="sec min hour day month weekday (seconds optional)">
            <input name="cronExpression" value={String(spec.cronExpression ?? '')} onChange={(e) => setSpec({ cronExpression: e.target.value })} />
            <CronPreview expr={String(spec.cronExpression ?? '')} />
          </FormRow>
        )}
        {s.type === 'repeat' && (
          <>
            <FormRow label="Every">
              <input placeholder="10m" value={String(spec.interval ?? '')} onChange={(e) => setSpec({ interval: e.target.value })} />
            </FormRow>
            <FormRow label="Times" hint="0: forever">
              <input type="number" value={Number(spec.repeatCount ?? 0)} onChange={(e) => setSpec({ repeatCount: Number(e.target.value) })} />
            </FormRow>
          </>
        )}
        {calendar && (
          <>
            <FormRow label="Frequency">
              <select value={String(spec.frequency ?? 'daily')} onChange={(e) => setSpec({ frequency: e.target.value })}>
                <option value="daily">every day</option>
                <option value="weekly">on weekdays</option>
                <option value="monthly">on a day of the month</option>
                <option value="on_date">on a date</option>
              </select>
            </FormRow>
            {spec.frequency === 'weekly' && (
              <FormRow label="Days">
                <Checks
                  name="Days of week"
                  all={['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']}
                  value={String(spec.dayOfWeek ?? '').split(',').filter(Boolean)}
                  onChange={(v) => setSpec({ dayOfWeek: v.join(',') })}
                />
              </FormRow>
            )}
            {spec.frequency === 'monthly' && (
              <FormRow label="Day of month" hint="1–31, comma-separated">
                <input value={String(spec.dateOfMonth ?? '')} onChange={(e) => setSpec({ dateOfMonth: e.target.value })} />
              </FormRow>
            )}
            {spec.frequency === 'on_date' && (
              <FormRow label="Date">
                <input type="date" value={String(spec.date ?? '')} onChange={(e) => setSpec({ date: e.target.value })} />
              </FormRow>
            )}
            {s.type === 'simple' ? (
              <FormRow label="Time">
                <input type="time" step={1} value={String(spec.time ?? '')} onChange={(e) => setSpec({ time: e.target.value.length === 5 ? e.target.value + ':00' : e.target.value })} />
              </FormRow>
            ) : (
              <FormRow label="Offset" hint={`before (−) or after ${s.type}: -30m, 1h`}>
                <input value={String(spec.offset ?? '')} onChange={(e) => setSpec({ offset: e.target.value })} />
              </FormRow>
            )}
          </>
        )}
        <FormRow label="Missed while down">
          <select value={s.missedRun || 'skip'} onChange={(e) => onChange({ ...s, missedRun: e.target.value })}>
            <option value="skip">skip</option>
            <option value="run_once">run once at start</option>
          </select>
        </FormRow>
        <FormRow label="Only between dates">
          <input type="checkbox" checked={s.validity.enabled} onChange={(e) => onChange({ ...s, validity: { ...s.validity, enabled: e.target.checked } })} />
        </FormRow>
        {s.validity.enabled && (
          <FormRow label="From / to">
            <span className="inline-inputs">
              <input type="date" aria-label="From date" value={s.validity.date?.from ?? ''} onChange={(e) => onChange({ ...s, validity: { ...s.validity, date: { ...s.validity.date, from: e.target.value } } })} />
              <input type="date" aria-label="To date" value={s.validity.date?.to ?? ''} onChange={(e) => onChange({ ...s, validity: { ...s.validity, date: { ...s.validity.date, to: e.target.value } } })} />
            </span>
          </FormRow>
        )}
      </fieldset>
      <fieldset>
        <legend>Variables</legend>
        <Variables value={s.variables} onChange={(variables) => onChange({ ...s, variables })} />
      </fieldset>
      <fieldset>
        <legend>Then</legend>
        <FormRow label="Notify handlers">
          <HandlerPicker value={s.handlers} onChange={(handlers) => onChange({ ...s, handlers })} />
        </FormRow>
        <FormRow label="With parameters">
          <Parameters value={s.handlerParameters} onChange={(handlerParameters) => onChange({ ...s, handlerParameters })} />
        </FormRow>
      </fieldset>
      <FormRow label="Labels">
        <LabelsInput value={s.labels} onChange={(labels) => onChange({ ...s, labels })} />
      </FormRow>
    </div>
  );
}

function ScheduleState({ id }: { id: string }) {
  const { data, reload } = useLoad(() => api.get<Schedule>(`/api/schedule/${encodeURIComponent(id)}`), [id]);
  useLiveReload('schedule', id, reload);
  const st = data?.state;
  return (
    <div className="card">
      <h2>State</h2>
      <dl className="facts">
        <dt>Last run</dt>
        <dd>{ago(st?.lastRun)}</dd>
        <dt>Next run</dt>
        <dd>{dateTime(st?.nextRun)}</dd>
        <dt>Result</dt>
        <dd>{st?.lastRun ? <StatusBadge status={st.lastStatus ? 'ok' : 'error'} /> : '—'}</dd>
        <dt>Runs</dt>
        <dd>{st?.executedCount ?? 0}</dd>
        <dt>Message</dt>
        <dd>{st?.message || '—'}</dd>
      </dl>
    </div>
  );
}

export function ScheduleList() {
  return (
    <section>
      <ListHead title="Schedules" to="/schedules/new" label="New schedule" />
      <ResourceList<Schedule>
        path="schedule"
        entityType="schedule"
        commands={['enable', 'disable', 'reload']}
        searchKeys={['id', 'description']}
        columns={[
          { label: 'Id', sort: 'id', render: (s) => <A to={`/schedules/${encodeURIComponent(s.id)}`}>{s.id}</A> },
          { label: 'Description', sort: 'description', render: (s) => s.description },
          { label: 'Enabled', sort: 'enabled', render: (s) => (s.enabled ? 'yes' : 'no') },
          { label: 'When', render: (s) => (s.type === 'cron' ? String(s.spec?.cronExpression ?? '') : s.type === 'repeat' ? `every ${s.spec?.interval}` : `${s.type} ${String(s.spec?.time ?? s.spec?.offset ?? '')}`) },
          { label: 'Last run', sort: 'state.lastRun', render: (s) => ago(s.state?.lastRun) },
          { label: 'Next run', sort: 'state.nextRun', render: (s) => dateTime(s.state?.nextRun) },
        ]}
      />
    </section>
  );
}

export function ScheduleEdit({ id }: { id?: string }) {
  return <ResourceEditor<Schedule> path="schedule" listPath="/schedules" title="schedule" id={id} defaults={NEW_SCHEDULE} Form={ScheduleForm} aside={(s) => <ScheduleState id={s.id} />} />;
}

// ---- handlers

const HANDLER_TYPES: Record<string, Setting[]> = {
  resource: [],
  noop: [],
  email: [
    { key: 'host', label: 'SMTP host', kind: 'text', required: true },
    { key: 'port', label: 'Port', kind: 'number', placeholder: '587' },
    { key: 'security', label: 'Security', kind: 'select', options: ['starttls', 'tls', 'none'] },
    { key: 'username', label: 'Username', kind: 'text' },
    { key: 'password', label: 'Password', kind: 'password' },
    { key: 'fromEmail', label: 'From', kind: 'text' },
    { key: 'toEmails', label: 'To', kind: 'text', hint: 'comma-separated' },
  ],
  telegram: [
    { key: 'token', label: 'Bot token', kind: 'password', required: true },
    { key: 'chatIds', label: 'Chat ids', kind: 'text', hint: 'comma-separated' },
  ],
  webhook: [
    { key: 'url', label: 'URL', kind: 'text' },
    { key: 'method', label: 'Method', kind: 'select', options: ['GET', 'POST', 'PUT', 'DELETE'] },
    { key: 'responseCode', label: 'Expected status', kind: 'number', placeholder: '200' },
    { key: 'insecure', label: 'Skip TLS certificate check', kind: 'bool' },
  ],
  mqtt: [
    { key: 'broker', label: 'Broker', kind: 'text', placeholder: 'tcp://127.0.0.1:1883', required: true },
    { key: 'username', label: 'Username', kind: 'text' },
    { key: 'password', label: 'Password', kind: 'password' },
    { key: 'topic', label: 'Default topic', kind: 'text' },
    { key: 'qos', label: 'QoS', kind: 'select', options: ['0', '1', '2'] },
  ],
  backup: [
    { key: 'prefix', label: 'File prefix', kind: 'text', placeholder: 'scheduled_backup' },
    { key: 'targetDirectory', label: 'Folder in backups', kind: 'text', hint: 'empty: listed on the Backup page' },
    { key: 'retentionCount', label: 'Keep', kind: 'number', placeholder: '10' },
    { key: 'includeMetrics', label: 'Include the metric history', kind: 'bool' },
  ],
};

function HandlerForm({ value: h, onChange, errors, isNew }: FormProps<Handler>) {
  return (
    <div className="form">
      <FormRow label="Id" error={errors.id}>
        <input name="id" required readOnly={!isNew} value={h.id} onChange={(e) => onChange({ ...h, id: e.target.value })} />
      </FormRow>
      <FormRow label="Description">
        <input name="description" value={h.description} onChange={(e) => onChange({ ...h, description: e.target.value })} />
      </FormRow>
      <FormRow label="Enabled">
        <input type="checkbox" checked={h.enabled} onChange={(e) => onChange({ ...h, enabled: e.target.checked })} />
      </FormRow>
      <FormRow label="Type">
        <select name="type" value={h.type} onChange={(e) => onChange({ ...h, type: e.target.value, spec: {} })}>
          {Object.keys(HANDLER_TYPES).map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
      </FormRow>
      {(HANDLER_TYPES[h.type] ?? []).map((s) => (
        <SettingInput key={s.key} s={s} value={h.spec?.[s.key]} error={errors[`spec.${s.key}`]} onChange={(v) => onChange({ ...h, spec: setSetting(h.spec ?? {}, s, v) })} />
      ))}
      {h.type === 'resource' && <p className="muted">Acts on fields, nodes and other resources: give the target in the task's or schedule's parameters.</p>}
      <FormRow label="Labels">
        <LabelsInput value={h.labels} onChange={(labels) => onChange({ ...h, labels })} />
      </FormRow>
    </div>
  );
}

export function HandlerList() {
  return (
    <section>
      <ListHead title="Handlers" to="/handlers/new" label="New handler" />
      <ResourceList<Handler>
        path="handler"
        entityType="handler"
        commands={['enable', 'disable', 'reload']}
        searchKeys={['id', 'description']}
        columns={[
          { label: 'Id', sort: 'id', render: (h) => <A to={`/handlers/${encodeURIComponent(h.id)}`}>{h.id}</A> },
          { label: 'Description', sort: 'description', render: (h) => h.description },
          { label: 'Type', sort: 'type', render: (h) => h.type },
          { label: 'Enabled', sort: 'enabled', render: (h) => (h.enabled ? 'yes' : 'no') },
          { label: 'State', sort: 'state.status', render: (h) => <StatusBadge status={h.state?.status} title={h.state?.message} /> },
          { label: 'Message', render: (h) => <span className="muted">{h.state?.message}</span> },
        ]}
      />
    </section>
  );
}

export function HandlerEdit({ id }: { id?: string }) {
  return (
    <ResourceEditor<Handler>
      path="handler"
      listPath="/handlers"
      title="handler"
      id={id}
      defaults={{ id: '', description: '', enabled: true, labels: {}, type: 'resource', spec: {} }}
      Form={HandlerForm}
      aside={(h) => (
        <div className="card">
          <h2>State</h2>
          <StatusBadge status={h.state?.status} /> {h.state?.message} <span className="muted">{ago(h.state?.since)}</span>
        </div>
      )}
    />
  );
}

// ---- forward payloads

function ForwardForm({ value: f, onChange, errors, isNew }: FormProps<ForwardPayload>) {
  return (
    <div className="form">
      <FormRow label="Id" error={errors.id}>
        <input name="id" required readOnly={!isNew} value={f.id} onChange={(e) => onChange({ ...f, id: e.target.value })} />
      </FormRow>
      <FormRow label="Description">
        <input name="description" value={f.description} onChange={(e) => onChange({ ...f, description: e.target.value })} />
      </FormRow>
      <FormRow label="Enabled">
        <input type="checkbox" checked={f.enabled} onChange={(e) => onChange({ ...f, enabled: e.target.checked })} />
      </FormRow>
      <FormRow label="From field" error={errors.srcFieldId}>
        <FieldPicker prefix label="From field" value={f.srcFieldId} onChange={(srcFieldId) => onChange({ ...f, srcFieldId })} />
      </FormRow>
      <FormRow label="To field" error={errors.dstFieldId}>
        <FieldPicker prefix label="To field" value={f.dstFieldId} onChange={(dstFieldId) => onChange({ ...f, dstFieldId })} />
      </FormRow>
      <FormRow label="Change the value">
        <select value={f.transform?.type ?? ''} onChange={(e) => onChange({ ...f, transform: { ...f.transform, type: e.target.value } })}>
          <option value="">no, copy it</option>
          <option value="template">with a template</option>
          <option value="javascript">with JavaScript</option>
        </select>
      </FormRow>
      {f.transform?.type && (
        <FormRow label={f.transform.type === 'template' ? 'Template' : 'Expression'} hint="sees value, previousValue and field">
          <textarea rows={3} value={f.transform.source} onChange={(e) => onChange({ ...f, transform: { ...f.transform, source: e.target.value } })} />
        </FormRow>
      )}
    </div>
  );
}

export function ForwardList() {
  return (
    <section>
      <ListHead title="Forward payloads" to="/forwardpayloads/new" label="New forward payload" />
      <ResourceList<ForwardPayload>
        path="forwardpayload"
        entityType="forward_payload"
        commands={['enable', 'disable']}
        searchKeys={['id', 'srcFieldId', 'dstFieldId']}
        columns={[
          { label: 'Id', sort: 'id', render: (f) => <A to={`/forwardpayloads/${encodeURIComponent(f.id)}`}>{f.id}</A> },
          { label: 'From', sort: 'srcFieldId', render: (f) => <code>{f.srcFieldId}</code> },
          { label: 'To', sort: 'dstFieldId', render: (f) => <code>{f.dstFieldId}</code> },
          { label: 'Transform', render: (f) => f.transform?.type || '—' },
          { label: 'Enabled', sort: 'enabled', render: (f) => (f.enabled ? 'yes' : 'no') },
        ]}
      />
    </section>
  );
}

export function ForwardEdit({ id }: { id?: string }) {
  return (
    <ResourceEditor<ForwardPayload>
      path="forwardpayload"
      listPath="/forwardpayloads"
      title="forward payload"
      id={id}
      defaults={{ id: '', description: '', enabled: true, srcFieldId: '', dstFieldId: '', transform: { type: '', source: '' }, labels: {} }}
      Form={ForwardForm}
    />
  );
}
