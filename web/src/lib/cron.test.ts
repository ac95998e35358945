import { describe, expect, it } from 'vitest';
import { describeCron, nextRuns, parseCron } from './cron';

describe('cron preview', () => {
  it('describes common expressions', () => {
    expect(describeCron(parseCron('0 15 1 * * *'))).toBe('at 01:15, every day');
    expect(describeCron(parseCron('*/15 * * * *'))).toBe('every 15 minutes, every day');
    expect(describeCron(parseCron('30 7 * * MON-FRI'))).toBe('at 07:30, on Monday, Tuesday, Wednesday, Thursday, Friday');
    expect(describeCron(parseCron('0 8,20 * * *'))).toBe('at 08:00, 20:00, every day');
    expect(describeCron(parseCron('*/10 * * * * *'))).toBe('every 10 seconds, every day');
    expect(describeCron(parseCron('0 0 1 JAN *'))).toBe('at 00:00, on day 1 of the month in January');
  });

  it('finds the next runs in local time', () => {
    const from = new Date(2024, 0, 31, 23, 59, 30); // Wed 31 Jan 2024
    expect(nextRuns(parseCron('0 0 * * *'), from, 2)).toEqual([new Date(2024, 1, 1), new Date(2024, 1, 2)]);
    expect(nextRuns(parseCron('* * * * * *'), from, 1)).toEqual([new Date(2024, 0, 31, 23, 59, 31)]);
    // Day of month OR weekday when both are restricted (the 13th, or any Friday).
    const runs = nextRuns(parseCron('0 12 13 * FRI'), from, 3).map((d) => d.getDate());
    expect(runs).toEqual([2, 9, 13]);
    // 29 February only in leap years.
    expect(nextRuns(parseCron('0 0 29 2 *'), from, 2).map((d) => d.getFullYear())).toEqual([2024, 2028]);
  });

  it('rejects what the scheduler would reject, saying why', () => {
    expect(() => parseCron('* * *')).toThrow(/5 fields/);
    expect(() => parseCron('61 * * * *')).toThrow(/minute/);
    expect(() => parseCron('* * * * BLAH')).toThrow(/weekday/);
    expect(() => parseCron('*/0 * * * *')).toThrow(/step/);
  });
});
