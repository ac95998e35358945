// How values and times read on screen.

export function ago(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '—';
  const s = Math.round((now - t) / 1000);
  if (s < -5) return 'in the future';
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : d.toLocaleString();
}

export function formatValue(v: unknown, unit = ''): string {
  if (v === null || v === undefined || v === '') return '—';
  let text: string;
  if (typeof v === 'boolean') text = v ? 'on' : 'off';
  else if (typeof v === 'number') text = Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) >= 100 ? 1 : 2);
  else if (typeof v === 'object') text = JSON.stringify(v);
  else text = String(v);
  return unit ? `${text} ${unit}` : text;
}

/** A field value as a boolean: true, 1, "1", "on", "true" are on. */
export function truthy(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return ['1', 'on', 'true', 'yes'].includes(v.trim().toLowerCase());
  return false;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** `field:gw.1.2.V_TEMP` for a field's storage id. */
export function quickId(kind: string, id: string): string {
  return `${kind}:${id}`;
}
