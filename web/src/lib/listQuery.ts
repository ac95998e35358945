// What a list page asks the server for (filter, sort, search, page) and how a live event changes
// the page it shows. Pure, so the rules are tested without a browser.

import type { LiveEvent } from '../api/types';

export interface FilterItem {
  k: string;
  o: string;
  v: unknown;
}

export interface ListState {
  search: string;
  searchKey: string;
  filters: FilterItem[];
  sortField: string;
  sortDesc: boolean;
  page: number;
  pageSize: number;
}

export const OPERATORS: { o: string; label: string }[] = [
  { o: 'eq', label: '=' },
  { o: 'ne', label: '≠' },
  { o: 'gt', label: '>' },
  { o: 'gte', label: '≥' },
  { o: 'lt', label: '<' },
  { o: 'lte', label: '≤' },
  { o: 'regex', label: 'matches' },
  { o: 'in', label: 'in (a,b)' },
  { o: 'nin', label: 'not in (a,b)' },
  { o: 'exists', label: 'exists' },
];

export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The query parameters of `GET /api/<resource>` for this state. */
export function listParams(s: ListState, fixed: FilterItem[] = []): Record<string, string> {
  const filters: FilterItem[] = [...fixed];
  for (const f of s.filters) {
    if (!f.k) continue;
    if (f.o === 'in' || f.o === 'nin') {
      filters.push({ ...f, v: String(f.v ?? '').split(',').map((x) => x.trim()).filter(Boolean) });
    } else if (f.o === 'exists') {
      filters.push({ ...f, v: f.v === false || f.v === 'false' ? 'false' : 'true' });
    } else {
      filters.push(f);
    }
  }
  const q = s.search.trim();
  if (q) filters.push({ k: s.searchKey, o: 'regex', v: escapeRegex(q) });
  const out: Record<string, string> = {
    limit: String(s.pageSize),
    offset: String(s.page * s.pageSize),
  };
  if (filters.length) out.filter = JSON.stringify(filters);
  if (s.sortField) out.sortBy = JSON.stringify([{ f: s.sortField, o: s.sortDesc ? 'desc' : 'asc' }]);
  return out;
}

export interface PageChange<T> {
  rows: T[];
  /** The page may have gained or lost rows the server decides about: fetch it again. */
  refetch: boolean;
}

/**
 * An update to a row on the page replaces it in place (no flicker, no request); anything that can
 * change which rows belong on the page (a create, a delete) asks for the page again.
 */
export function applyEvent<T extends { id: string }>(rows: T[], entityType: string, e: LiveEvent): PageChange<T> {
  if (e.entityType !== entityType) return { rows, refetch: false };
  const i = rows.findIndex((r) => r.id === e.entityId);
  if (e.type === 'updated' && i >= 0) {
    const next = rows.slice();
    next[i] = { ...rows[i], ...(e.entity as Partial<T>) };
    return { rows: next, refetch: false };
  }
  if (e.type === 'deleted' && i >= 0) {
    return { rows: rows.filter((r) => r.id !== e.entityId), refetch: true };
  }
  if (e.type === 'created' || e.type === 'deleted') return { rows, refetch: true };
  if (e.type === 'updated') return { rows, refetch: true };
  return { rows, refetch: false };
}
