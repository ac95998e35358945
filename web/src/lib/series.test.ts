import { describe, expect, it } from 'vitest';
import { align, windowFor } from './series';
import type { MetricRow } from '../api/types';

describe('metric series for charts', () => {
  it('puts several series on one time axis with gaps', () => {
    const a = [
      { timestamp: '2024-01-01T00:00:00Z', values: { mean: 1 } },
      { timestamp: '2024-01-01T00:01:00Z', values: { mean: 2 } },
    ];
    const b = [{ timestamp: '2024-01-01T00:01:00Z', values: { value: 'true' } }];
    const [xs, ya, yb] = align([a, b]);
    expect(xs).toEqual([1704067200, 1704067260]);
    expect(ya).toEqual([1, 2]);
    expect(yb).toEqual([null, 1]);
  });

  it('picks the asked aggregation and ignores text', () => {
    const rows: MetricRow[] = [{ timestamp: '2024-01-01T00:00:00Z', values: { mean: 1, max: 5 } }, { timestamp: '2024-01-01T00:02:00Z', values: { value: 'hello' } }];
    expect(align([rows], 'max')[1]).toEqual([5, null]);
  });

  it('chooses a window for about 200 points', () => {
    expect(windowFor('-1h')).toBe('18s');
    expect(windowFor('-24h')).toBe('7m');
    expect(windowFor('-30d')).toBe('3h');
    expect(windowFor('bogus')).toBe('');
  });
});
