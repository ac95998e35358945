import { useEffect, useState } from 'react';
import { api } from './client';
import { useLive } from './live';
import type { MetricRow } from './types';
import { align, windowFor, type Columns } from '../lib/series';

export interface SeriesQuery {
  quickIds: string[];
  range: string; // -1h
  fn: string; // mean, max, min, sum, count, last, or raw
}

/** Fetches the series and fetches again, at most every few seconds, when one of the fields changes. */
export function useSeries(q: SeriesQuery): { data: Columns; error: unknown } {
  const [data, setData] = useState<Columns>([[]]);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const key = JSON.stringify(q);
  useEffect(() => {
    if (!q.quickIds.length) return;
    let live = true;
    const raw = q.fn === 'raw';
    const body = {
      global: { start: q.range, ...(raw ? {} : { window: windowFor(q.range), functions: [q.fn] }) },
      individual: q.quickIds.map((quickId) => ({ quickId })),
    };
    api
      .post<Record<string, MetricRow[]>>('/api/metric', body)
      .then((ans) => {
        if (!live) return;
        setData(align(q.quickIds.map((id) => ans[id] ?? []), raw ? 'value' : q.fn));
        setError(null);
      })
      .catch((e) => live && setError(e));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, tick]);
  const [pending, setPending] = useState(false);
  useLive(['field'], (e) => {
    if (pending || !q.quickIds.includes(e.entityQuickId)) return;
    setPending(true);
    setTimeout(() => {
      setPending(false);
      setTick((t) => t + 1);
    }, 2000);
  });
  return { data, error };
}
