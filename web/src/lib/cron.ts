// Cron expressions as the scheduler reads them (croner): 5 fields (minute hour day month weekday)
// or 6 with seconds first. Parsed here only to show a preview: what it means and its next runs.

export interface Cron {
  seconds: number[];
  minutes: number[];
  hours: number[];
  days: number[];
  months: number[];
  weekdays: number[];
  daysRestricted: boolean;
  weekdaysRestricted: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const WEEKDAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function parseField(text: string, min: number, max: number, names: string[] | null, nameBase: number, what: string): number[] {
  const out = new Set<number>();
  const value = (s: string): number => {
    const up = s.toUpperCase();
    if (names) {
      const i = names.indexOf(up);
      if (i >= 0) return i + nameBase;
    }
    if (!/^\d+$/.test(s)) throw new Error(`${what}: \`${s}\` is not a number`);
    return Number(s);
  };
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`${what}: bad step \`${stepText}\``);
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      lo = min;
      hi = max;
    } else if (range.includes('-')) {
      const [a, b] = range.split('-');
      lo = value(a);
      hi = value(b);
    } else {
      lo = value(range);
      hi = stepText === undefined ? lo : max;
    }
    if (what === 'weekday') {
      if (lo === 7) lo = 0;
      if (hi === 7 && lo !== 0) hi = 6;
    }
    if (lo < min || hi > max || lo > hi) throw new Error(`${what}: \`${range}\` is outside ${min}–${max}`);
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}

export function parseCron(expr: string): Cron {
  const parts = expr.trim().split(/\s+/).filter(Boolean);
  if (parts.length !== 5 && parts.length !== 6) {
    throw new Error(`expected 5 fields (minute hour day month weekday) or 6 (seconds first), got ${parts.length}`);
  }
  const [s, m, h, dom, mon, dow] = parts.length === 6 ? parts : ['0', ...parts];
  return {
    seconds: parseField(s, 0, 59, null, 0, 'second'),
    minutes: parseField(m, 0, 59, null, 0, 'minute'),
    hours: parseField(h, 0, 23, null, 0, 'hour'),
    days: parseField(dom, 1, 31, null, 1, 'day'),
    months: parseField(mon, 1, 12, MONTHS, 1, 'month'),
    weekdays: parseField(dow, 0, 7, WEEKDAYS, 0, 'weekday'),
    daysRestricted: dom !== '*' && dom !== '?',
    weekdaysRestricted: dow !== '*' && dow !== '?',
  };
}

function dayMatches(c: Cron, d: Date): boolean {
  if (!c.months.includes(d.getMonth() + 1)) return false;
  const dom = c.days.includes(d.getDate());
  const dow = c.weekdays.includes(d.getDay());
  if (c.daysRestricted && c.weekdaysRestricted) return dom || dow;
  return dom && dow;
}

/** The next `count` times after `from` (local time), looking at most five years ahead. */
export function nextRuns(c: Cron, from: Date, count: number): Date[] {
  const out: Date[] = [];
  const day = new Date(from.getFullYear(), from.getMonth(), from.getDate());
  for (let i = 0; i < 366 * 5 && out.length < count; i++) {
    if (dayMatches(c, day)) {
      for (const h of c.hours) {
        for (const m of c.minutes) {
          for (const s of c.seconds) {
            const t = new Date(day.getFullYear(), day.getMonth(), day.getDate(), h, m, s);
            if (t > from && out.length < count) out.push(t);
          }
        }
      }
    }
    day.setDate(day.getDate() + 1);
  }
  return out;
}

const pad = (n: number) => String(n).padStart(2, '0');

function stepOf(values: number[], all: number): number | null {
  if (values.length < 2 || values.length === all || values[0] !== 0) return null;
  const step = values[1] - values[0];
  const regular = values.every((v, i) => i === 0 || v - values[i - 1] === step);
  return regular && values[values.length - 1] + step >= all ? step : null;
}

function part(values: number[], all: number, unit: string): string | null {
  if (values.length === all) return `every ${unit}`;
  const step = stepOf(values, all);
  if (step) return `every ${step} ${unit}s`;
  return null;
}

/** A sentence a person can check the expression against. */
export function describeCron(c: Cron): string {
  const bits: string[] = [];
  const secs = c.seconds.length === 1 && c.seconds[0] === 0 ? '' : `:${pad(c.seconds[0])}`;
  if (c.minutes.length === 1 && c.seconds.length === 1 && c.hours.length <= 6) {
    bits.push(`at ${c.hours.map((h) => `${pad(h)}:${pad(c.minutes[0])}${secs}`).join(', ')}`);
  } else {
    if (c.seconds.length !== 1 || c.seconds[0] !== 0) {
      bits.push(part(c.seconds, 60, 'second') ?? `at second ${c.seconds.join(', ')}`);
    }
    if (!(c.seconds.length > 1 && c.minutes.length === 60)) {
      bits.push(part(c.minutes, 60, 'minute') ?? `at minute ${c.minutes.join(', ')}`);
    }
    if (c.hours.length !== 24) {
      bits.push(part(c.hours, 24, 'hour') ?? `during hour ${c.hours.map(pad).join(', ')}`);
    }
  }
  const days: string[] = [];
  if (c.weekdaysRestricted) days.push(`on ${c.weekdays.map((d) => WEEKDAY_NAMES[d]).join(', ')}`);
  if (c.daysRestricted) days.push(`on day ${c.days.join(', ')} of the month`);
  const month = c.months.length === 12 ? '' : ` in ${c.months.map((m) => MONTH_NAMES[m - 1]).join(', ')}`;
  return `${bits.join(', ')}, ${days.length ? days.join(' or ') : 'every day'}${month}`;
}
