// Settings, backup and restore, status, users, service tokens and the profile.

import { useEffect, useState } from 'react';
import { ApiError, api, download, request } from '../api/client';
import type { CreatedServiceToken, ServiceToken, User } from '../api/types';
import { ResourceList } from '../components/ResourceList';
import { Confirm, ErrorBox, FormRow, Modal, StatusBadge, toast, toastError, useLoad } from '../components/ui';
import { bytes, dateTime } from '../lib/format';
import { useProfile, can } from '../session';

type Obj = Record<string, unknown>;

export function SettingsPage() {
  const { data, error } = useLoad(() => api.get<{ spec: Obj }>('/api/settings'), []);
  const [spec, setSpec] = useState<Obj | null>(null);
  const [saveError, setSaveError] = useState<unknown>(null);
  useEffect(() => {
    if (data) setSpec(data.spec ?? {});
  }, [data]);
  if (error) return <ErrorBox error={error} />;
  if (!spec) return <p className="muted">Loading…</p>;
  const geo = (spec.geoLocation ?? {}) as Obj;
  const login = (spec.login ?? {}) as Obj;
  const job = (spec.nodeStateJob ?? {}) as Obj;
  const errs: Record<string, string> = saveError instanceof ApiError ? saveError.fieldErrors() : {};
  const e = (k: string) => errs[`spec.${k}`];
  return (
    <section>
      <div className="page-head">
        <h1>Settings</h1>
      </div>
      <form
        className="card form"
        onSubmit={async (ev) => {
          ev.preventDefault();
          try {
            await api.post('/api/settings', { id: 'system_settings', spec });
            setSaveError(null);
            toast('settings saved');
          } catch (err) {
            setSaveError(err);
          }
        }}
      >
        <fieldset>
          <legend>Location</legend>
          <p className="muted">Used for sunrise and sunset schedules.</p>
          <FormRow label="Place name">
            <input value={String(geo.locationName ?? '')} onChange={(x) => setSpec({ ...spec, geoLocation: { ...geo, locationName: x.target.value } })} />
          </FormRow>
          <FormRow label="Latitude" hint="-90 to 90, north positive" error={e('geoLocation.latitude')}>
            <input name="latitude" inputMode="decimal" value={String(geo.latitude ?? '')} onChange={(x) => setSpec({ ...spec, geoLocation: { ...geo, latitude: x.target.value === '' ? null : Number(x.target.value) } })} />
          </FormRow>
          <FormRow label="Longitude" hint="-180 to 180, east positive" error={e('geoLocation.longitude')}>
            <input name="longitude" inputMode="decimal" value={String(geo.longitude ?? '')} onChange={(x) => setSpec({ ...spec, geoLocation: { ...geo, longitude: x.target.value === '' ? null : Number(x.target.value) } })} />
          </FormRow>
        </fieldset>
        <fieldset>
          <legend>Display</legend>
          <FormRow label="Units">
            <select value={String(spec.unitSystem || 'metric')} onChange={(x) => setSpec({ ...spec, unitSystem: x.target.value })}>
              <option value="metric">metric</option>
              <option value="imperial">imperial</option>
            </select>
          </FormRow>
          <FormRow label="Language">
            <input value={String(spec.language ?? '')} placeholder="en" onChange={(x) => setSpec({ ...spec, language: x.target.value })} />
          </FormRow>
          <FormRow label="Login message" hint="shown on the login page">
            <input value={String(login.message ?? '')} onChange={(x) => setSpec({ ...spec, login: { ...login, message: x.target.value } })} />
          </FormRow>
        </fieldset>
        <fieldset>
          <legend>Nodes</legend>
          <FormRow label="Mark a node down after" hint="without a message for this long" error={e('nodeStateJob.inactiveDuration')}>
            <input value={String(job.inactiveDuration ?? '')} placeholder="15m" onChange={(x) => setSpec({ ...spec, nodeStateJob: { ...job, inactiveDuration: x.target.value } })} />
          </FormRow>
          <FormRow label="Check every" error={e('nodeStateJob.executionInterval')}>
            <input value={String(job.executionInterval ?? '')} placeholder="1m" onChange={(x) => setSpec({ ...spec, nodeStateJob: { ...job, executionInterval: x.target.value } })} />
          </FormRow>
        </fieldset>
        <ErrorBox error={saveError} />
        <div className="actions">
          <button className="primary" type="submit">
            Save
          </button>
        </div>
      </form>
    </section>
  );
}

interface BackupEntry {
  id: string;
  size: number;
  modifiedOn: string;
}

export function BackupPage() {
  const { data, error, reload } = useLoad(() => api.get<{ count: number; retention: number; data: BackupEntry[] }>('/api/backup'), []);
  const [busy, setBusy] = useState(false);
  const [restore, setRestore] = useState<string | null>(null);
  const [result, setResult] = useState<Obj | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [file, setFile] = useState<File | null>(null);

  async function run() {
    setBusy(true);
    setActionError(null);
    try {
      const r = await api.post<{ id: string; size: number }>('/api/backup/run');
      toast(`backup ${r.id} made (${bytes(r.size)})`);
      reload();
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
    }
  }
  async function upload(ev: React.FormEvent) {
    ev.preventDefault();
    if (!file) return;
    setBusy(true);
    setActionError(null);
    try {
      const body = new FormData();
      body.append('file', file);
      const r = await request<{ id: string }>('/api/backup/upload', { method: 'POST', body });
      toast(`uploaded ${r.id}`);
      reload();
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
    }
  }
  async function doRestore(id: string) {
    setBusy(true);
    setActionError(null);
    setResult(null);
    try {
      setResult(await api.post<Obj>(`/api/backup/${encodeURIComponent(id)}/restore`));
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section>
      <div className="page-head">
        <h1>Backup & restore</h1>
        <span className="spacer" />
        <button className="primary" disabled={busy} onClick={run}>
          {busy ? 'Working…' : 'Run a backup now'}
        </button>
      </div>
      <ErrorBox error={error || actionError} />
      {result && (
        <div className="card ok-box" role="status" data-testid="restore-result">
          <strong>Restored {String(result.restored)}.</strong>{' '}
          {Object.entries((result.entities ?? {}) as Record<string, number>)
            .map(([k, n]) => `${n} ${k}`)
            .join(', ')}
        </div>
      )}
      <div className="table-wrap card">
        <table>
          <thead>
            <tr>
              <th>Archive</th>
              <th>Size</th>
              <th>Made</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data?.data.map((b) => (
              <tr key={b.id} data-id={b.id}>
                <td>
                  <code>{b.id}</code>
                </td>
                <td>{bytes(b.size)}</td>
                <td>{dateTime(b.modifiedOn)}</td>
                <td className="row-actions">
                  <button onClick={() => download(`/api/backup/${encodeURIComponent(b.id)}`, b.id).catch(toastError)}>Download</button>
                  <button onClick={() => setRestore(b.id)}>Restore…</button>
                  <button
                    className="danger"
                    onClick={() =>
                      api
                        .del('/api/backup', [b.id])
                        .then(reload)
                        .catch(toastError)
                    }
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
            {data && data.data.length === 0 && (
              <tr>
                <td colSpan={4} className="empty">
                  No backups yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
        {data && <p className="muted">The newest {data.retention} are kept.</p>}
      </div>
      <form className="card" onSubmit={upload}>
        <h2>Upload a backup</h2>
        <input type="file" aria-label="Backup archive" accept=".zip,.tar,.gz,.json,.yaml" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        <button type="submit" disabled={!file || busy}>
          Upload
        </button>
      </form>
      {restore && (
        <Confirm
          text={
            <>
              Replace <strong>every</strong> resource (gateways, nodes, fields, automation, dashboards, users) with those in <code>{restore}</code>? What is not in the archive is lost.
            </>
          }
          yes="Restore"
          onYes={() => doRestore(restore)}
          onClose={() => setRestore(null)}
        />
      )}
    </section>
  );
}

function Json({ value }: { value: unknown }) {
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

export function StatusPage() {
  const { data, error, reload } = useLoad(() => api.get<Obj>('/api/status'), []);
  useEffect(() => {
    const t = setInterval(reload, 5000);
    return () => clearInterval(t);
  }, [reload]);
  if (error) return <ErrorBox error={error} />;
  if (!data) return <p className="muted">Loading…</p>;
  const services = (data.services ?? {}) as Obj;
  const states = (services.states ?? {}) as Record<string, { status?: string; message?: string } | string>;
  const up = Number(data.uptimeSeconds ?? 0);
  return (
    <section>
      <div className="page-head">
        <h1>Status</h1>
      </div>
      <div className="cards">
        <div className="card">
          <h2>Server</h2>
          <dl className="facts">
            <dt>Version</dt>
            <dd>{String(data.version)}</dd>
            <dt>Up for</dt>
            <dd>
              {Math.floor(up / 86400)} d {Math.floor((up % 86400) / 3600)} h {Math.floor((up % 3600) / 60)} min
            </dd>
            <dt>Metrics</dt>
            <dd>{data.metricsDisabled ? 'off' : 'on'}</dd>
          </dl>
        </div>
        <div className="card">
          <h2>Services</h2>
          <dl className="facts">
            {Object.entries(states).flatMap(([k, v]) => {
              const s = typeof v === 'string' ? { status: v } : v;
              return [
                <dt key={`k${k}`}>{k}</dt>,
                <dd key={`v${k}`}>
                  <StatusBadge status={s.status === 'running' ? 'up' : s.status === 'failed' ? 'error' : s.status} /> <span className="muted">{s.message}</span>
                </dd>,
              ];
            })}
          </dl>
        </div>
      </div>
      <div className="cards">
        {Object.entries(services)
          .filter(([k]) => k !== 'states')
          .map(([k, v]) => (
            <div className="card" key={k}>
              <h2>{k}</h2>
              <Json value={v} />
            </div>
          ))}
        <div className="card">
          <h2>websocket</h2>
          <Json value={data.websocket} />
        </div>
      </div>
    </section>
  );
}

export function ProfilePage() {
  const profile = useProfile();
  const [form, setForm] = useState({ fullName: '', email: '', currentPassword: '', newPassword: '', confirm: '' });
  const [error, setError] = useState<unknown>(null);
  if (!profile) return null;
  return (
    <section>
      <div className="page-head">
        <h1>{profile.username}</h1>
      </div>
      <div className="cards">
        <div className="card">
          <dl className="facts">
            <dt>Roles</dt>
            <dd>{profile.roles.join(', ') || '—'}</dd>
            <dt>Session ends</dt>
            <dd>{dateTime(profile.expiresOn)}</dd>
          </dl>
        </div>
        <form
          className="card form"
          onSubmit={async (e) => {
            e.preventDefault();
            setError(null);
            if (form.newPassword && form.newPassword !== form.confirm) {
              setError(new Error('the two new passwords differ'));
              return;
            }
            const body: Obj = {};
            if (form.fullName) body.fullName = form.fullName;
            if (form.email) body.email = form.email;
            if (form.newPassword) {
              body.currentPassword = form.currentPassword;
              body.newPassword = form.newPassword;
            }
            try {
              await api.post('/api/user/profile', body);
              toast(form.newPassword ? 'password changed' : 'profile saved');
              setForm({ ...form, currentPassword: '', newPassword: '', confirm: '' });
            } catch (err) {
              setError(err);
            }
          }}
        >
          <h2>Change your details</h2>
          <FormRow label="Full name">
            <input value={form.fullName} onChange={(e) => setForm({ ...form, fullName: e.target.value })} />
          </FormRow>
          <FormRow label="Email">
            <input type="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />
          </FormRow>
          <FormRow label="Current password">
            <input type="password" autoComplete="current-password" value={form.currentPassword} onChange={(e) => setForm({ ...form, currentPassword: e.target.value })} />
          </FormRow>
          <FormRow label="New password" hint="at least 8 characters">
            <input type="password" autoComplete="new-password" value={form.newPassword} onChange={(e) => setForm({ ...form, newPassword: e.target.value })} />
          </FormRow>
          <FormRow label="New password again">
            <input type="password" autoComplete="new-password" value={form.confirm} onChange={(e) => setForm({ ...form, confirm: e.target.value })} />
          </FormRow>
          <ErrorBox error={error} />
          <div className="actions">
            <button className="primary" type="submit">
              Save
            </button>
          </div>
        </form>
      </div>
    </section>
  );
}

export function UsersPage() {
  const [editing, setEditing] = useState<User | null>(null);
  return (
    <section>
      <div className="page-head">
        <h1>Users</h1>
        <span className="spacer" />
        <button className="primary" onClick={() => setEditing({ id: '', username: '', email: '', fullName: '', roles: ['viewer'], labels: {} })}>
          New user
        </button>
      </div>
      <ResourceList<User>
        path="user"
        entityType="user"
        searchKeys={['username', 'email']}
        defaultSort="username"
        columns={[
          { label: 'Username', sort: 'username', render: (u) => <button className="link" onClick={() => setEditing(u)}>{u.username}</button> },
          { label: 'Name', sort: 'fullName', render: (u) => u.fullName },
          { label: 'Email', sort: 'email', render: (u) => u.email },
          { label: 'Roles', render: (u) => u.roles.join(', ') },
        ]}
      />
      {editing && <UserForm user={editing} onClose={() => setEditing(null)} />}
    </section>
  );
}

function UserForm({ user, onClose }: { user: User; onClose: () => void }) {
  const [u, setU] = useState<User>({ ...user, password: '' });
  const [error, setError] = useState<unknown>(null);
  return (
    <Modal title={user.id ? `User ${user.username}` : 'New user'} onClose={onClose}>
      <form
        className="form"
        onSubmit={async (e) => {
          e.preventDefault();
          const body: Obj = { ...u };
          if (!u.password) delete body.password;
          delete body.modifiedOn;
          try {
            await api.post('/api/user', body);
            toast('user saved');
            onClose();
          } catch (err) {
            setError(err);
          }
        }}
      >
        <FormRow label="Username">
          <input required value={u.username} onChange={(e) => setU({ ...u, username: e.target.value })} />
        </FormRow>
        <FormRow label="Full name">
          <input value={u.fullName} onChange={(e) => setU({ ...u, fullName: e.target.value })} />
        </FormRow>
        <FormRow label="Email">
          <input type="email" value={u.email} onChange={(e) => setU({ ...u, email: e.target.value })} />
        </FormRow>
        <FormRow label="Role">
          <select value={u.roles[0] ?? 'viewer'} onChange={(e) => setU({ ...u, roles: [e.target.value] })}>
            <option value="viewer">viewer — sees everything</option>
            <option value="operator">operator — also controls devices and automation</option>
            <option value="admin">admin — also gateways, users, settings, backups</option>
          </select>
        </FormRow>
        <FormRow label={user.id ? 'New password' : 'Password'} hint={user.id ? 'empty keeps the current one' : 'at least 8 characters'}>
          <input type="password" autoComplete="new-password" required={!user.id} value={u.password ?? ''} onChange={(e) => setU({ ...u, password: e.target.value })} />
        </FormRow>
        <ErrorBox error={error} />
        <div className="actions">
          <button className="primary" type="submit">
            Save
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function TokensPage() {
  const profile = useProfile();
  const [creating, setCreating] = useState(false);
  const [raw, setRaw] = useState<string | null>(null);
  return (
    <section>
      <div className="page-head">
        <h1>Service tokens</h1>
        <span className="spacer" />
        <button className="primary" onClick={() => setCreating(true)}>
          New token
        </button>
      </div>
      <p className="muted">A service token lets a program use the API as you{can(profile, 'admin') ? ' (an admin sees everyone’s)' : ''}.</p>
      {raw && (
        <div className="card ok-box" role="status">
          Copy the token now; it is not shown again: <code className="token">{raw}</code>
        </div>
      )}
      <ResourceList<ServiceToken>
        path="servicetoken"
        entityType="service_token"
        searchKeys={['name', 'id']}
        defaultSort="name"
        columns={[
          { label: 'Name', sort: 'name', render: (t) => t.name },
          { label: 'Description', render: (t) => t.description },
          { label: 'User', sort: 'userId', render: (t) => t.userId },
          { label: 'Expires', sort: 'expiresOn', render: (t) => (t.neverExpire ? 'never' : dateTime(t.expiresOn)) },
          { label: 'Created', sort: 'createdOn', render: (t) => dateTime(t.createdOn) },
        ]}
      />
      {creating && <TokenForm onClose={() => setCreating(false)} onCreated={setRaw} />}
    </section>
  );
}

function TokenForm({ onClose, onCreated }: { onClose: () => void; onCreated: (raw: string) => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [expires, setExpires] = useState('');
  const [error, setError] = useState<unknown>(null);
  return (
    <Modal title="New service token" onClose={onClose}>
      <form
        className="form"
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            const t = await api.post<CreatedServiceToken>('/api/servicetoken', {
              name,
              description,
              neverExpire: !expires,
              ...(expires ? { expiresOn: new Date(expires).toISOString() } : {}),
            });
            onCreated(t.rawToken ?? '');
            onClose();
          } catch (err) {
            setError(err);
          }
        }}
      >
        <FormRow label="Name">
          <input required value={name} onChange={(e) => setName(e.target.value)} />
        </FormRow>
        <FormRow label="Description">
          <input value={description} onChange={(e) => setDescription(e.target.value)} />
        </FormRow>
        <FormRow label="Expires" hint="empty: never">
          <input type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />
        </FormRow>
        <ErrorBox error={error} />
        <div className="actions">
          <button className="primary" type="submit">
            Create
          </button>
        </div>
      </form>
    </Modal>
  );
}

