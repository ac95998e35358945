// Metric answers (`{<quickId>: [{timestamp, values: {mean: 1.5}}]}`) into the column arrays a
// chart draws: one shared time axis (seconds), one column per series, gaps as null.

import type { MetricRow } from '../api/types';

export type Columns = [number[], ...(number | null)[][]];

function num(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    if (Number.isFinite(n)) return n;
    const b = v.trim().toLowerCase();
    if (b === 'true' || b === 'on') return 1;
    if (b === 'false' || b === 'off') return 0;
  }
  return null;
}

/** `value` for raw points, else the named aggregation (mean by default). */
export function pick(row: MetricRow, fn = 'mean'): number | null {
  if (fn in row.values) return num(row.values[fn]);
  if ('value' in row.values) return num(row.values.value);
  const first = Object.values(row.values)[0];
  return num(first);
}

export function align(series: MetricRow[][], fn = 'mean'): Columns {
  const times = new Set<number>();
  const maps = series.map((rows) => {
    const m = new Map<number, number | null>();
    for (const r of rows) {
      const t = Date.parse(r.timestamp) / 1000;
      if (Number.isNaN(t)) continue;
      times.add(t);
      m.set(t, pick(r, fn));
    }
    return m;
  });
  const xs = [...times].sort((a, b) => a - b);
  return [xs, ...maps.map((m) => xs.map((t) => (m.has(t) ? m.get(t)! : null)))];
}

/** A window that gives a chart about `points` points over `range` (e.g. `-24h`). */
export function windowFor(range: string, points = 200): string {
  const m = /^-?(\d+)([smhd])$/.exec(range.trim());
  if (!m) return '';
  const secs = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  const w = Math.max(1, Math.floor(secs / points));
  if (w < 60) return `${w}s`;
  if (w < 3600) return `${Math.floor(w / 60)}m`;
  return `${Math.floor(w / 3600)}h`;
}
