// Firmware (with upload) and data repositories.

import { useState } from 'react';
import { request } from '../api/client';
import type { DataRepository, Firmware } from '../api/types';
import { LabelsInput, ResourceEditor, type FormProps } from '../components/ResourceEditor';
import { ResourceList } from '../components/ResourceList';
import { A, ErrorBox, FormRow, Labels, toast } from '../components/ui';
import { bytes, dateTime } from '../lib/format';
import { navigate } from '../router';

export function FirmwareList() {
  return (
    <section>
      <div className="page-head">
        <h1>Firmware</h1>
        <span className="spacer" />
        <A to="/firmware/new" className="button primary">
          Upload firmware
        </A>
      </div>
      <ResourceList<Firmware>
        path="firmware"
        entityType="firmware"
        searchKeys={['id', 'description']}
        columns={[
          { label: 'Id', sort: 'id', render: (f) => <A to={`/firmware/${encodeURIComponent(f.id)}`}>{f.id}</A> },
          { label: 'Description', sort: 'description', render: (f) => f.description },
          { label: 'File', sort: 'file.name', render: (f) => f.file?.name || <span className="muted">not uploaded</span> },
          { label: 'Size', sort: 'file.size', render: (f) => (f.file?.size ? bytes(f.file.size) : '') },
          { label: 'Checksum', render: (f) => <code title={f.file?.checksum}>{f.file?.checksum?.slice(0, 19)}</code> },
          { label: 'Uploaded', sort: 'file.modifiedOn', render: (f) => dateTime(f.file?.modifiedOn) },
          { label: 'Labels', render: (f) => <Labels labels={f.labels} /> },
        ]}
      />
    </section>
  );
}

function FirmwareForm({ value: f, onChange, errors, isNew }: FormProps<Firmware>) {
  return (
    <div className="form">
      <FormRow label="Id" error={errors.id} hint="A-Z a-z 0-9 _ -">
        <input name="id" required readOnly={!isNew} value={f.id} onChange={(e) => onChange({ ...f, id: e.target.value })} />
      </FormRow>
      <FormRow label="Description">
        <input name="description" value={f.description} onChange={(e) => onChange({ ...f, description: e.target.value })} />
      </FormRow>
      <FormRow label="MySensors type id" hint="ms_type_id label">
        <input value={f.labels?.ms_type_id ?? ''} onChange={(e) => onChange({ ...f, labels: { ...f.labels, ms_type_id: e.target.value } })} />
      </FormRow>
      <FormRow label="MySensors version id" hint="ms_version_id label">
        <input value={f.labels?.ms_version_id ?? ''} onChange={(e) => onChange({ ...f, labels: { ...f.labels, ms_version_id: e.target.value } })} />
      </FormRow>
      <FormRow label="Labels">
        <LabelsInput value={f.labels} onChange={(labels) => onChange({ ...f, labels })} />
      </FormRow>
    </div>
  );
}

function Upload({ id, current }: { id: string; current?: Firmware['file'] }) {
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<Firmware['file'] | undefined>(current);
  return (
    <form
      className="card"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!file) return;
        setBusy(true);
        setError(null);
        try {
          const body = new FormData();
          body.append('file', file);
          const f = await request<Firmware>(`/api/firmware/upload/${encodeURIComponent(id)}`, { method: 'POST', body });
          setDone(f.file);
          toast(`uploaded ${file.name}`);
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2>File</h2>
      {done?.name ? (
        <dl className="facts" data-testid="firmware-file">
          <dt>Name</dt>
          <dd>{done.name}</dd>
          <dt>Size</dt>
          <dd>{bytes(done.size)}</dd>
          <dt>Checksum</dt>
          <dd>
            <code>{done.checksum}</code>
          </dd>
        </dl>
      ) : (
        <p className="muted">No file yet.</p>
      )}
      <input type="file" name="file" aria-label="Firmware file" accept=".hex,.bin,.ihex" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
      <ErrorBox error={error} />
      <div className="actions">
        <button className="primary" type="submit" disabled={!file || busy}>
          {busy ? 'Uploading…' : 'Upload'}
        </button>
      </div>
    </form>
  );
}

export function FirmwareEdit({ id }: { id?: string }) {
  return (
    <ResourceEditor<Firmware>
      path="firmware"
      listPath="/firmware"
      title="firmware"
      id={id}
      defaults={{ id: '', description: '', file: { name: '', internalName: '', checksum: '', size: 0 }, labels: {} }}
      Form={FirmwareForm}
      aside={(f) => <Upload id={f.id} current={f.file} />}
    />
  );
}

export function RepositoryList() {
  return (
    <section>
      <div className="page-head">
        <h1>Data repositories</h1>
        <span className="spacer" />
        <button className="primary" onClick={() => navigate('/datarepositories/new')}>
          New repository
        </button>
      </div>
      <ResourceList<DataRepository>
        path="datarepository"
        entityType="data_repository"
        searchKeys={['id', 'description']}
        columns={[
          { label: 'Id', sort: 'id', render: (r) => <A to={`/datarepositories/${encodeURIComponent(r.id)}`}>{r.id}</A> },
          { label: 'Description', sort: 'description', render: (r) => r.description },
          { label: 'Read-only', sort: 'readOnly', render: (r) => (r.readOnly ? 'yes' : 'no') },
          { label: 'Keys', render: (r) => Object.keys(r.data ?? {}).join(', ') },
          { label: 'Modified', sort: 'modifiedOn', render: (r) => dateTime(r.modifiedOn) },
        ]}
      />
    </section>
  );
}

export function RepositoryEdit({ id }: { id?: string }) {
  return (
    <ResourceEditor<DataRepository>
      path="datarepository"
      listPath="/datarepositories"
      title="data repository"
      id={id}
      defaults={{ id: '', readOnly: false, description: '', labels: {}, data: {} }}
    />
  );
}

