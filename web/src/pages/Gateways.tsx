import { useState } from 'react';
import { api } from '../api/client';
import type { Gateway, Schemas } from '../api/types';
import { LabelsInput, ResourceEditor, type FormProps } from '../components/ResourceEditor';
import { ResourceList } from '../components/ResourceList';
import { SettingInput } from '../components/SettingInput';
import { A, Confirm, ErrorBox, FormRow, Labels, StatusBadge, toast, toastError, useLoad } from '../components/ui';
import { ago, dateTime } from '../lib/format';
import { PROVIDERS, providerSpec, setSetting, switchProvider, TRANSPORTS } from '../lib/providers';
import { NodesTable } from './Nodes';

export function GatewayList() {
  return (
    <section>
      <div className="page-head">
        <h1>Gateways</h1>
        <span className="spacer" />
        <A to="/gateways/new" className="button primary">
          New gateway
        </A>
      </div>
      <ResourceList<Gateway>
        path="gateway"
        entityType="gateway"
        commands={['enable', 'disable', 'reload']}
        searchKeys={['id', 'description']}
        columns={[
          { label: 'Id', sort: 'id', render: (g) => <A to={`/gateways/${encodeURIComponent(g.id)}`}>{g.id}</A> },
          { label: 'Description', sort: 'description', render: (g) => g.description },
          { label: 'Provider', sort: 'provider.type', render: (g) => `${g.provider?.type ?? ''}${(g.provider?.protocol as { type?: string })?.type ? ' / ' + (g.provider.protocol as { type: string }).type : ''}` },
          { label: 'Enabled', sort: 'enabled', render: (g) => (g.enabled ? 'yes' : 'no') },
          { label: 'State', sort: 'state.status', render: (g) => <StatusBadge status={g.state?.status} title={g.state?.message} /> },
          { label: 'Since', render: (g) => <span title={g.state?.message}>{ago(g.state?.since)}</span> },
          { label: 'Labels', render: (g) => <Labels labels={g.labels} /> },
        ]}
      />
    </section>
  );
}

const NEW_GATEWAY: Gateway = {
  id: '',
  description: '',
  enabled: true,
  reconnectDelay: '15s',
  queueFailedMessage: false,
  provider: { type: 'mysensors_v2', protocol: { type: 'mqtt' } },
  messageLogger: { type: 'none' },
  labels: {},
};

function GatewayForm({ value: g, onChange, errors, isNew }: FormProps<Gateway>) {
  const provider = g.provider ?? {};
  const spec = providerSpec(provider.type);
  const protocol = (provider.protocol ?? {}) as Record<string, unknown>;
  const setProvider = (p: Record<string, unknown>) => onChange({ ...g, provider: p });
  return (
    <div className="form">
      <FormRow label="Id" error={errors.id} hint="letters, digits, _ and -; part of every node's id">
        <input name="id" required readOnly={!isNew} value={g.id} onChange={(e) => onChange({ ...g, id: e.target.value })} />
      </FormRow>
      <FormRow label="Description">
        <input name="description" value={g.description} onChange={(e) => onChange({ ...g, description: e.target.value })} />
      </FormRow>
      <FormRow label="Enabled">
        <input type="checkbox" name="enabled" checked={g.enabled} onChange={(e) => onChange({ ...g, enabled: e.target.checked })} />
      </FormRow>
      <FormRow label="Provider" error={errors['provider.type']}>
        <select name="provider" value={String(provider.type ?? '')} onChange={(e) => setProvider(switchProvider(provider, e.target.value))}>
          {PROVIDERS.map((p) => (
            <option key={p.type} value={p.type}>
              {p.label}
            </option>
          ))}
        </select>
      </FormRow>
      {spec && spec.transports.length > 0 && (
        <FormRow label="Transport">
          <select name="transport" value={String(protocol.type ?? '')} onChange={(e) => setProvider({ ...provider, protocol: { type: e.target.value } })}>
            {spec.transports.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </FormRow>
      )}
      {spec?.transports.length ? (
        <fieldset>
          <legend>{String(protocol.type)} settings</legend>
          {(TRANSPORTS[String(protocol.type)] ?? []).map((s) => (
            <SettingInput
              key={s.key}
              s={s}
              value={protocol[s.key]}
              error={errors[`provider.protocol.${s.key}`]}
              onChange={(v) => setProvider({ ...provider, protocol: setSetting(protocol, s, v) })}
            />
          ))}
        </fieldset>
      ) : null}
      {spec && spec.settings.length > 0 && (
        <fieldset>
          <legend>{spec.label} settings</legend>
          {spec.settings.map((s) => (
            <SettingInput key={s.key} s={s} value={provider[s.key]} error={errors[`provider.${s.key}`]} onChange={(v) => setProvider(setSetting(provider, s, v))} />
          ))}
        </fieldset>
      )}
      <fieldset>
        <legend>Behaviour</legend>
        <FormRow label="Reconnect after" hint="when the gateway is not up" error={errors.reconnectDelay}>
          <input name="reconnectDelay" value={g.reconnectDelay} onChange={(e) => onChange({ ...g, reconnectDelay: e.target.value })} />
        </FormRow>
        <FormRow label="Queue failed sends" hint="put messages that could not be sent into the node's sleeping queue">
          <input type="checkbox" checked={g.queueFailedMessage} onChange={(e) => onChange({ ...g, queueFailedMessage: e.target.checked })} />
        </FormRow>
        <FormRow label="Log raw traffic">
          <select
            value={String(g.messageLogger?.type ?? 'none')}
            onChange={(e) => onChange({ ...g, messageLogger: { ...(g.messageLogger ?? {}), type: e.target.value } })}
          >
            <option value="none">no</option>
            <option value="file_logger">to a file</option>
          </select>
        </FormRow>
        <FormRow label="Labels" hint="one key=value a line">
          <LabelsInput value={g.labels} onChange={(labels) => onChange({ ...g, labels })} />
        </FormRow>
      </fieldset>
    </div>
  );
}

async function gatewayAction(id: string, what: string) {
  try {
    if (what === 'discover_nodes') await api.post('/api/action', [{ resource: `gateway:${id}`, payload: 'discover_nodes' }]);
    else await api.post(`/api/gateway/${what}`, [id]);
    toast(`${what.replace('_', ' ')}: sent to ${id}`);
  } catch (e) {
    toastError(e);
  }
}

export function GatewayEdit({ id }: { id?: string }) {
  return (
    <ResourceEditor<Gateway>
      path="gateway"
      listPath="/gateways"
      title="gateway"
      id={id}
      defaults={NEW_GATEWAY}
      Form={GatewayForm}
      actions={(g) => (
        <div className="button-group">
          <StatusBadge status={g.state?.status} title={g.state?.message} />
          {['enable', 'disable', 'reload', 'discover_nodes'].map((a) => (
            <button key={a} onClick={() => gatewayAction(g.id, a)}>
              {a.replace('_', ' ')}
            </button>
          ))}
        </div>
      )}
      aside={(g) => (
        <>
          <h2>Nodes</h2>
          <NodesTable gatewayId={g.id} compact />
          <SleepingQueue gatewayId={g.id} />
        </>
      )}
    />
  );
}

type SleepingQueueAnswer = Schemas['SleepingQueue'];

interface QueuedMessage {
  message: { nodeId?: string; sourceId?: string; type?: string; payloads?: { key: string; value: string }[] };
  queuedAt: string;
  expiresAt: string;
}

/** What the gateway holds for its sleeping nodes until they wake; loaded when opened. */
function SleepingQueue({ gatewayId }: { gatewayId: string }) {
  const [open, setOpen] = useState(false);
  const [node, setNode] = useState('');
  const [confirm, setConfirm] = useState(false);
  const path = `/api/gateway/${encodeURIComponent(gatewayId)}/sleeping-queue`;
  const { data, error, loading, reload } = useLoad(
    (signal) => (open ? api.get<SleepingQueueAnswer>(path, { nodeId: node }, signal) : Promise.resolve(null)),
    [open, path, node],
  );
  const messages = (data?.messages ?? []) as QueuedMessage[];
  const counts = (data?.counts ?? {}) as Record<string, number>;
  const clear = async () => {
    try {
      const r = await api.del<SleepingQueueAnswer>(`${path}${node ? `?nodeId=${encodeURIComponent(node)}` : ''}`);
      toast(`sleeping queue: ${r.cleared} message(s) dropped`);
      reload();
    } catch (e) {
      toastError(e);
    }
  };
  return (
    <details className="card" onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>Sleeping queue{data ? ` (${messages.length})` : ''}</summary>
      <div className="toolbar">
        <label>
          Node <input value={node} onChange={(e) => setNode(e.target.value)} placeholder="all nodes" size={10} />
        </label>
        <button onClick={reload} disabled={loading}>
          refresh
        </button>
        <button className="danger" onClick={() => setConfirm(true)} disabled={!messages.length}>
          clear
        </button>
      </div>
      {error ? (
        <ErrorBox error={error} />
      ) : messages.length ? (
        <table aria-label="sleeping queue">
          <thead>
            <tr>
              <th>node</th>
              <th>source</th>
              <th>payload</th>
              <th>queued</th>
              <th>expires</th>
            </tr>
          </thead>
          <tbody>
            {messages.map((q, i) => (
              <tr key={i}>
                <td>{q.message.nodeId}</td>
                <td>{q.message.sourceId}</td>
                <td>{(q.message.payloads ?? []).map((p) => `${p.key}=${p.value}`).join(', ')}</td>
                <td title={q.queuedAt}>{ago(q.queuedAt)}</td>
                <td title={q.expiresAt}>{dateTime(q.expiresAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        data && <p className="muted">Nothing waits for a sleeping node.</p>
      )}
      {data && (
        <p className="muted">
          Since the gateway started: {counts.expired ?? 0} expired, {counts.replaced ?? 0} replaced by newer, {counts.droppedOldest ?? 0} dropped
          (node queue full), {counts.refused ?? 0} refused (gateway queue full).
        </p>
      )}
      {confirm && (
        <Confirm
          text={`Drop ${node ? `node ${node}'s` : 'every'} queued message of gateway ${gatewayId}? The nodes will not get them.`}
          yes="Drop them"
          onYes={clear}
          onClose={() => setConfirm(false)}
        />
      )}
    </details>
  );
}
