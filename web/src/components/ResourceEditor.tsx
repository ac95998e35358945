// Editing one resource: a guided form and a YAML/JSON editor of the whole resource, both on the
// same value; Save posts it (`POST /api/<path>`) and shows the server's errors where they belong.

import { useEffect, useState, type ReactNode } from 'react';
import YAML from 'yaml';
import { ApiError, api } from '../api/client';
import { navigate } from '../router';
import { ErrorBox, toast } from './ui';

export interface FormProps<T> {
  value: T;
  onChange: (v: T) => void;
  errors: Record<string, string>;
  isNew: boolean;
}

/** Drops what the server keeps for itself before showing or sending. */
function editable(v: Record<string, unknown>): Record<string, unknown> {
  const { modifiedOn: _m, ...rest } = v;
  void _m;
  return rest;
}

export function TextEditor({ value, onChange, format, onFormat }: { value: unknown; onChange: (v: unknown) => void; format: 'yaml' | 'json'; onFormat: (f: 'yaml' | 'json') => void }) {
  const show = (v: unknown) => (format === 'yaml' ? YAML.stringify(v, { lineWidth: 0 }) : JSON.stringify(v, null, 2));
  const [text, setText] = useState(() => show(value));
  const [error, setError] = useState('');
  const [focused, setFocused] = useState(false);
  useEffect(() => {
    if (!focused) setText(show(value));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value, format]);
  return (
    <div className="text-editor">
      <div className="tabs small">
        {(['yaml', 'json'] as const).map((f) => (
          <button key={f} type="button" className={format === f ? 'active' : ''} onClick={() => onFormat(f)}>
            {f.toUpperCase()}
          </button>
        ))}
      </div>
      <textarea
        spellCheck={false}
        aria-label={`${format.toUpperCase()} of the resource`}
        value={text}
        onFocus={() => setFocused(true)}
        onBlur={() => setFocused(false)}
        onChange={(e) => {
          setText(e.target.value);
          try {
            const v = format === 'yaml' ? YAML.parse(e.target.value) : JSON.parse(e.target.value);
            if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('the resource is an object (key: value lines)');
            setError('');
            onChange(v);
          } catch (err) {
            setError((err as Error).message.split('\n')[0]);
          }
        }}
        rows={Math.min(40, Math.max(12, text.split('\n').length + 1))}
      />
      {error && <div className="field-error">{error}</div>}
    </div>
  );
}

export interface ResourceEditorProps<T> {
  path: string; // gateway
  listPath: string; // /gateways
  title: string;
  id?: string; // undefined = new
  defaults: T;
  Form?: (p: FormProps<T>) => ReactNode;
  aside?: (v: T) => ReactNode;
  actions?: (v: T) => ReactNode;
}

export function ResourceEditor<T extends { id: string }>(p: ResourceEditorProps<T>) {
  const isNew = !p.id;
  const [value, setValue] = useState<T | null>(isNew ? p.defaults : null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [error, setError] = useState<unknown>(null);
  const [mode, setMode] = useState<'form' | 'text'>(p.Form ? 'form' : 'text');
  const [format, setFormat] = useState<'yaml' | 'json'>('yaml');
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    if (isNew) {
      setValue(p.defaults);
      return;
    }
    api
      .get<T>(`/api/${p.path}/${encodeURIComponent(p.id!)}`)
      .then((v) => setValue({ ...p.defaults, ...(editable(v as Record<string, unknown>) as T) }))
      .catch(setLoadError);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [p.path, p.id]);

  if (loadError) return <ErrorBox error={loadError} />;
  if (!value) return <p className="muted">Loading…</p>;
  const errors = error instanceof ApiError ? error.fieldErrors() : {};

  async function save(e: React.FormEvent) {
    e.preventDefault();
    setSaving(true);
    setError(null);
    try {
      const body = editable(value as Record<string, unknown>);
      delete body.state;
      await api.post(`/api/${p.path}`, body);
      toast(`saved ${value!.id}`);
      navigate(`${p.listPath}/${encodeURIComponent(value!.id)}`, true);
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  }

  return (
    <section className="editor">
      <div className="page-head">
        <h1>
          {isNew ? `New ${p.title}` : `${p.title} ${p.id}`}
        </h1>
        <span className="spacer" />
        {!isNew && p.actions?.(value)}
      </div>
      <div className={`editor-body ${!isNew && p.aside ? '' : 'single'}`}>
        <form onSubmit={save} className="editor-main card">
          {p.Form && (
            <div className="tabs" role="tablist">
              <button type="button" role="tab" aria-selected={mode === 'form'} className={mode === 'form' ? 'active' : ''} onClick={() => setMode('form')}>
                Form
              </button>
              <button type="button" role="tab" aria-selected={mode === 'text'} className={mode === 'text' ? 'active' : ''} onClick={() => setMode('text')}>
                YAML / JSON
              </button>
            </div>
          )}
          {mode === 'form' && p.Form ? (
            <p.Form value={value} onChange={setValue} errors={errors} isNew={isNew} />
          ) : (
            <TextEditor value={editable(value as Record<string, unknown>)} onChange={(v) => setValue(v as T)} format={format} onFormat={setFormat} />
          )}
          <ErrorBox error={error} />
          <div className="actions">
            <button className="primary" type="submit" disabled={saving}>
              {saving ? 'Saving…' : 'Save'}
            </button>
            <button type="button" onClick={() => navigate(p.listPath)}>
              Cancel
            </button>
          </div>
        </form>
        {!isNew && p.aside && <aside className="editor-aside">{p.aside(value)}</aside>}
      </div>
    </section>
  );
}

/** `key=value` lines ⇄ a labels map. */
export function LabelsInput({ value, onChange }: { value: Record<string, string>; onChange: (v: Record<string, string>) => void }) {
  const [text, setText] = useState(() => Object.entries(value ?? {}).map(([k, v]) => `${k}=${v}`).join('\n'));
  return (
    <textarea
      rows={Math.max(2, text.split('\n').length)}
      aria-label="Labels"
      placeholder="room=hall"
      value={text}
      onChange={(e) => {
        setText(e.target.value);
        const out: Record<string, string> = {};
        for (const line of e.target.value.split('\n')) {
          const i = line.indexOf('=');
          if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
        }
        onChange(out);
      }}
    />
  );
}
