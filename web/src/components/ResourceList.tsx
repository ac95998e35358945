// A resource list: server-side search, filters, sort and paging; rows update live from the
// websocket; bulk delete and enable/disable/reload where the resource has them.

import { useEffect, useRef, useState, type ReactNode } from 'react';
import { api } from '../api/client';
import { useLive } from '../api/live';
import type { ListAnswer } from '../api/types';
import { applyEvent, listParams, OPERATORS, type FilterItem, type ListState } from '../lib/listQuery';
import { Confirm, ErrorBox, toast, toastError, useLoad } from './ui';

export interface Column<T> {
  label: string;
  /** Key path the server sorts by; none = not sortable. */
  sort?: string;
  render: (row: T) => ReactNode;
  className?: string;
}

export interface ResourceListProps<T> {
  path: string; // `gateway` → /api/gateway
  entityType: string; // as in events: `forward_payload`
  columns: Column<T>[];
  searchKeys?: string[];
  fixed?: FilterItem[];
  defaultSort?: string;
  commands?: string[]; // enable, disable, reload
  canDelete?: boolean;
  toolbar?: ReactNode;
  pageSize?: number;
  rowKey?: (row: T) => string;
}

export function ResourceList<T extends { id: string }>(p: ResourceListProps<T>) {
  const [state, setState] = useState<ListState>({
    search: '',
    searchKey: p.searchKeys?.[0] ?? 'id',
    filters: [],
    sortField: p.defaultSort ?? 'id',
    sortDesc: false,
    page: 0,
    pageSize: p.pageSize ?? 25,
  });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirm, setConfirm] = useState(false);
  const [showFilters, setShowFilters] = useState(false);
  const fixedKey = JSON.stringify(p.fixed ?? []);
  const { data, setData, error, loading, reload } = useLoad(
    (signal) => api.get<ListAnswer<T>>(`/api/${p.path}`, listParams(state, p.fixed), signal),
    [p.path, JSON.stringify(state), fixedKey],
  );
  const refetchTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => void (refetchTimer.current && clearTimeout(refetchTimer.current)), []);
  useLive(
    [p.entityType],
    (e) => {
      if (!data) return;
      const r = applyEvent(data.data, p.entityType, e);
      if (r.rows !== data.data) setData({ ...data, data: r.rows });
      if (r.refetch && !refetchTimer.current) {
        refetchTimer.current = setTimeout(() => {
          refetchTimer.current = null;
          reload();
        }, 300);
      }
    },
    reload,
  );
  const set = (patch: Partial<ListState>) => setState((s) => ({ ...s, page: 0, ...patch }));
  const rows = data?.data ?? [];
  const count = data?.count ?? 0;
  const pages = Math.max(1, Math.ceil(count / state.pageSize));
  const allSelected = rows.length > 0 && rows.every((r) => selected.has(r.id));
  const ids = [...selected];

  async function command(c: string) {
    try {
      await api.post(`/api/${p.path}/${c}`, ids);
      toast(`${c}: ${ids.length} ${p.path}${ids.length === 1 ? '' : 's'}`);
    } catch (e) {
      toastError(e);
    }
  }
  async function remove() {
    try {
      await api.del(`/api/${p.path}`, ids);
      setSelected(new Set());
      toast(`deleted ${ids.length}`);
      reload();
    } catch (e) {
      toastError(e);
    }
  }

  return (
    <div className="resource-list">
      <div className="toolbar">
        <input
          type="search"
          placeholder={`Search ${state.searchKey}…`}
          aria-label="Search"
          value={state.search}
          onChange={(e) => set({ search: e.target.value })}
        />
        {(p.searchKeys?.length ?? 0) > 1 && (
          <select aria-label="Search in" value={state.searchKey} onChange={(e) => set({ searchKey: e.target.value })}>
            {p.searchKeys!.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        )}
        <button onClick={() => setShowFilters((v) => !v)} aria-expanded={showFilters}>
          Filters{state.filters.length ? ` (${state.filters.length})` : ''}
        </button>
        <span className="spacer" />
        {selected.size > 0 && (
          <span className="bulk">
            {selected.size} selected
            {p.commands?.map((c) => (
              <button key={c} onClick={() => command(c)}>
                {c}
              </button>
            ))}
            {p.canDelete !== false && (
              <button className="danger" onClick={() => setConfirm(true)}>
                delete
              </button>
            )}
          </span>
        )}
        {p.toolbar}
      </div>
      {showFilters && <FilterEditor filters={state.filters} onChange={(filters) => set({ filters })} />}
      <ErrorBox error={error} />
      <div className="table-wrap">
        <table className={loading ? 'loading' : ''}>
          <thead>
            <tr>
              <th className="check">
                <input
                  type="checkbox"
                  aria-label="Select all"
                  checked={allSelected}
                  onChange={() => setSelected(allSelected ? new Set() : new Set(rows.map((r) => r.id)))}
                />
              </th>
              {p.columns.map((c) => (
                <th key={c.label} className={c.className}>
                  {c.sort ? (
                    <button
                      className="sort"
                      onClick={() => setState((s) => ({ ...s, sortField: c.sort!, sortDesc: s.sortField === c.sort ? !s.sortDesc : false }))}
                    >
                      {c.label}
                      {state.sortField === c.sort ? (state.sortDesc ? ' ▼' : ' ▲') : ''}
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={p.rowKey?.(r) ?? r.id} data-id={r.id}>
                <td className="check">
                  <input
                    type="checkbox"
                    aria-label={`Select ${r.id}`}
                    checked={selected.has(r.id)}
                    onChange={() => {
                      const s = new Set(selected);
                      if (s.has(r.id)) s.delete(r.id);
                      else s.add(r.id);
                      setSelected(s);
                    }}
                  />
                </td>
                {p.columns.map((c) => (
                  <td key={c.label} className={c.className} data-label={c.label}>
                    {c.render(r)}
                  </td>
                ))}
              </tr>
            ))}
            {!loading && rows.length === 0 && (
              <tr>
                <td colSpan={p.columns.length + 1} className="empty">
                  Nothing here{state.search || state.filters.length ? ' that matches' : ' yet'}.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <div className="pager">
        <span className="muted">{count} in all</span>
        <button disabled={state.page === 0} onClick={() => setState((s) => ({ ...s, page: s.page - 1 }))}>
          ‹ Prev
        </button>
        <span>
          page {state.page + 1} of {pages}
        </span>
        <button disabled={state.page + 1 >= pages} onClick={() => setState((s) => ({ ...s, page: s.page + 1 }))}>
          Next ›
        </button>
        <select aria-label="Page size" value={state.pageSize} onChange={(e) => set({ pageSize: Number(e.target.value) })}>
          {[10, 25, 50, 100].map((n) => (
            <option key={n} value={n}>
              {n} / page
            </option>
          ))}
        </select>
      </div>
      {confirm && (
        <Confirm text={`Delete ${ids.length} ${p.path}(s): ${ids.join(', ')}?`} yes="Delete" onYes={remove} onClose={() => setConfirm(false)} />
      )}
    </div>
  );
}

function FilterEditor({ filters, onChange }: { filters: FilterItem[]; onChange: (f: FilterItem[]) => void }) {
  const [draft, setDraft] = useState<FilterItem[]>(filters.length ? filters : [{ k: '', o: 'eq', v: '' }]);
  const upd = (i: number, patch: Partial<FilterItem>) => setDraft(draft.map((f, j) => (j === i ? { ...f, ...patch } : f)));
  return (
    <form
      className="filters"
      onSubmit={(e) => {
        e.preventDefault();
        onChange(draft.filter((f) => f.k.trim()));
      }}
    >
      {draft.map((f, i) => (
        <div key={i} className="filter-row">
          <input placeholder="key path, e.g. labels.room" aria-label="Filter key" value={f.k} onChange={(e) => upd(i, { k: e.target.value })} />
          <select aria-label="Operator" value={f.o} onChange={(e) => upd(i, { o: e.target.value })}>
            {OPERATORS.map((o) => (
              <option key={o.o} value={o.o}>
                {o.label}
              </option>
            ))}
          </select>
          <input placeholder="value" aria-label="Filter value" value={String(f.v ?? '')} onChange={(e) => upd(i, { v: e.target.value })} />
          <button type="button" className="icon" aria-label="Remove filter" onClick={() => setDraft(draft.filter((_, j) => j !== i))}>
            ×
          </button>
        </div>
      ))}
      <div className="actions">
        <button type="button" onClick={() => setDraft([...draft, { k: '', o: 'eq', v: '' }])}>
          + condition
        </button>
        <button type="submit" className="primary">
          Apply
        </button>
        <button
          type="button"
          onClick={() => {
            setDraft([{ k: '', o: 'eq', v: '' }]);
            onChange([]);
          }}
        >
          Clear
        </button>
      </div>
    </form>
  );
}
