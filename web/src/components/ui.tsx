// Small shared pieces: links, badges, errors, modal, toasts, and a data-loading hook.

import { isValidElement, useCallback, useEffect, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import { ApiError } from '../api/client';
import { link } from '../router';

export function A({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  return (
    <a href={to} className={className} onClick={(e) => link(e, to)}>
      {children}
    </a>
  );
}

export function StatusBadge({ status, title }: { status?: string; title?: string }) {
  const s = status || 'unavailable';
  return (
    <span className={`badge badge-${s}`} title={title}>
      {s}
    </span>
  );
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error as ApiError;
  const fields = e instanceof ApiError ? Object.entries(e.fieldErrors()) : [];
  return (
    <div className="error" role="alert">
      <strong>{e.message || String(error)}</strong>
      {e instanceof ApiError && e.code && <span className="muted"> ({e.code})</span>}
      {fields.length > 0 && (
        <ul>
          {fields.map(([p, m]) => (
            <li key={p}>
              <code>{p}</code>: {m}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Modal({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const key = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', key);
    ref.current?.querySelector<HTMLElement>('input,select,textarea,button')?.focus();
    return () => window.removeEventListener('keydown', key);
  }, [onClose]);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className={`modal ${wide ? 'wide' : ''}`} role="dialog" aria-modal="true" aria-label={title} ref={ref}>
        <header>
          <h2>{title}</h2>
          <button className="icon" aria-label="Close" onClick={onClose}>
            ×
          </button>
        </header>
        {children}
      </div>
    </div>
  );
}

// Toasts: short confirmations and errors of actions that have no form to show them in.
interface Toast {
  id: number;
  text: string;
  kind: 'ok' | 'error';
}
let toasts: Toast[] = [];
let nextToast = 0;
const toastListeners = new Set<() => void>();
export function toast(text: string, kind: 'ok' | 'error' = 'ok') {
  const t = { id: nextToast++, text, kind };
  toasts = [...toasts, t];
  toastListeners.forEach((f) => f());
  setTimeout(() => {
    toasts = toasts.filter((x) => x.id !== t.id);
    toastListeners.forEach((f) => f());
  }, kind === 'error' ? 8000 : 3500);
}
export function toastError(e: unknown) {
  toast((e as Error)?.message ?? String(e), 'error');
}
export function Toasts() {
  const list = useSyncExternalStore(
    (f) => {
      toastListeners.add(f);
      return () => toastListeners.delete(f);
    },
    () => toasts,
  );
  return (
    <div className="toasts" aria-live="polite">
      {list.map((t) => (
        <div key={t.id} className={`toast toast-${t.kind}`}>
          {t.text}
        </div>
      ))}
    </div>
  );
}

/** Loads with `f` when `deps` change; `reload()` again on demand. */
export function useLoad<T>(f: (signal: AbortSignal) => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    f(ctl.signal)
      .then((d) => {
        setData(d);
        setError(null);
      })
      .catch((e) => {
        if ((e as Error).name !== 'AbortError') setError(e);
      })
      .finally(() => !ctl.signal.aborted && setLoading(false));
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  return { data, setData, error, loading, reload };
}

export function Labels({ labels }: { labels?: Record<string, string> }) {
  const entries = Object.entries(labels ?? {});
  if (!entries.length) return null;
  return (
    <span className="labels">
      {entries.map(([k, v]) => (
        <span key={k} className="label">
          {k}={v}
        </span>
      ))}
    </span>
  );
}

/**
 * A labelled form row. A single input, select or textarea is wrapped in its <label>; anything
 * richer (checkbox groups, lists with buttons) becomes a named group, so its buttons keep their
 * own names.
 */
export function FormRow({ label, children, hint, error }: { label: string; children: ReactNode; hint?: ReactNode; error?: string }) {
  const simple = isValidElement(children) && typeof children.type === 'string' && ['input', 'select', 'textarea'].includes(children.type);
  const body = (
    <>
      <span className="row-label">{label}</span>
      <span className="row-input">
        {children}
        {hint && <small className="hint">{hint}</small>}
        {error && <small className="field-error">{error}</small>}
      </span>
    </>
  );
  const cls = `row ${error ? 'has-error' : ''}`;
  return simple ? (
    <label className={cls}>{body}</label>
  ) : (
    <div className={cls} role="group" aria-label={label}>
      {body}
    </div>
  );
}

export function Confirm({ text, onYes, onClose, yes = 'Yes' }: { text: ReactNode; onYes: () => void; onClose: () => void; yes?: string }) {
  return (
    <Modal title="Are you sure?" onClose={onClose}>
      <p>{text}</p>
      <div className="actions">
        <button className="danger" onClick={() => (onYes(), onClose())}>
          {yes}
        </button>
        <button onClick={onClose}>Cancel</button>
      </div>
    </Modal>
  );
}
