// The widgets a dashboard can hold: what each shows, what it is configured with, and its size.

import { useEffect, useState, type ReactNode } from 'react';
import { api } from '../api/client';
import { useSeries } from '../api/metrics';
import type { Field, ListAnswer, Widget } from '../api/types';
import { useLive } from '../api/live';
import { Chart } from '../components/Chart';
import { setFieldValue } from '../pages/Fields';
import { formatValue, truthy } from '../lib/format';
import { markdown } from '../lib/markdown';
import { fieldId, useField } from './fields';

export type ConfigKind = 'field' | 'fields' | 'number' | 'text' | 'textarea' | 'select' | 'bool';

export interface ConfigItem {
  key: string;
  label: string;
  kind: ConfigKind;
  options?: string[];
  hint?: string;
}

export interface WidgetDef {
  type: string;
  label: string;
  size: { w: number; h: number };
  defaults: Record<string, unknown>;
  config: ConfigItem[];
  View: (p: { w: Widget }) => ReactNode;
}

const c = (w: Widget) => w.config as Record<string, unknown>;

function Missing({ what }: { what: string }) {
  return <div className="widget-missing">{what}</div>;
}

function ValueTile({ w }: { w: Widget }) {
  const f = useField(c(w).field);
  if (!c(w).field) return <Missing what="Pick a field in the widget's settings." />;
  if (!f) return <Missing what={`No field ${fieldId(c(w).field)}`} />;
  return (
    <div className="tile">
      <div className="tile-value" data-testid="tile-value">
        {formatValue(f.current?.value, (c(w).unit as string) || f.unit)}
      </div>
      <div className="tile-label">{f.name || f.fieldId}</div>
    </div>
  );
}

function Gauge({ w }: { w: Widget }) {
  const f = useField(c(w).field);
  const min = Number(c(w).min ?? 0);
  const max = Number(c(w).max ?? 100);
  if (!f) return <Missing what="Pick a field in the widget's settings." />;
  const v = Number(f.current?.value);
  const frac = Number.isFinite(v) ? Math.max(0, Math.min(1, (v - min) / (max - min || 1))) : 0;
  // A 240° arc: from 150° to 390°.
  const arc = (t: number) => {
    const a = ((150 + 240 * t) * Math.PI) / 180;
    return [50 + 40 * Math.cos(a), 55 + 40 * Math.sin(a)];
  };
  const [x0, y0] = arc(0);
  const [x1, y1] = arc(1);
  const [xv, yv] = arc(frac);
  const large = (t: number) => (240 * t > 180 ? 1 : 0);
  return (
    <svg viewBox="0 0 100 90" className="gauge" role="img" aria-label={`${f.name}: ${formatValue(v, f.unit)}`}>
      <path d={`M${x0},${y0} A40,40 0 ${large(1)} 1 ${x1},${y1}`} className="gauge-track" />
      {frac > 0 && <path d={`M${x0},${y0} A40,40 0 ${large(frac)} 1 ${xv},${yv}`} className="gauge-bar" />}
      <text x="50" y="58" textAnchor="middle" className="gauge-value">
        {formatValue(f.current?.value)}
      </text>
      <text x="50" y="70" textAnchor="middle" className="gauge-unit">
        {f.unit}
      </text>
      <text x={x0} y="88" textAnchor="middle" className="gauge-unit">
        {min}
      </text>
      <text x={x1} y="88" textAnchor="middle" className="gauge-unit">
        {max}
      </text>
    </svg>
  );
}

function Toggle({ w }: { w: Widget }) {
  const f = useField(c(w).field);
  if (!f) return <Missing what="Pick a field in the widget's settings." />;
  const on = truthy(f.current?.value);
  const onP = String(c(w).onPayload || 'true');
  const offP = String(c(w).offPayload || 'false');
  return (
    <div className="control">
      <span>{f.name || f.fieldId}</span>
      <button
        role="switch"
        aria-checked={on}
        aria-label={w.title || f.name || f.id}
        className={`switch big ${on ? 'on' : ''}`}
        onClick={() => setFieldValue(f.id, on ? offP : onP)}
      >
        <span />
      </button>
    </div>
  );
}

function PushButton({ w }: { w: Widget }) {
  const id = fieldId(c(w).field);
  if (!id) return <Missing what="Pick a field in the widget's settings." />;
  return (
    <div className="control">
      <button className="primary big" onClick={() => setFieldValue(id, c(w).payload ?? 'true')}>
        {String(c(w).label || w.title || 'Press')}
      </button>
    </div>
  );
}

function Slider({ w }: { w: Widget }) {
  const f = useField(c(w).field);
  const [v, setV] = useState<number | null>(null);
  useEffect(() => setV(null), [f?.current?.value]);
  if (!f) return <Missing what="Pick a field in the widget's settings." />;
  const value = v ?? Number(f.current?.value ?? 0);
  return (
    <div className="control column">
      <span>
        {f.name || f.fieldId}: <strong>{formatValue(value, f.unit)}</strong>
      </span>
      <input
        type="range"
        aria-label={w.title || f.name}
        min={Number(c(w).min ?? 0)}
        max={Number(c(w).max ?? 100)}
        step={Number(c(w).step ?? 1)}
        value={value}
        onChange={(e) => setV(Number(e.target.value))}
        onPointerUp={() => v !== null && setFieldValue(f.id, String(v))}
        onKeyUp={() => v !== null && setFieldValue(f.id, String(v))}
      />
    </div>
  );
}

function Select({ w }: { w: Widget }) {
  const f = useField(c(w).field);
  if (!f) return <Missing what="Pick a field in the widget's settings." />;
  const options = String(c(w).options ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return (
    <div className="control column">
      <span>{f.name || f.fieldId}</span>
      <select aria-label={w.title || f.name} value={String(f.current?.value ?? '')} onChange={(e) => setFieldValue(f.id, e.target.value)}>
        {!options.includes(String(f.current?.value ?? '')) && <option value={String(f.current?.value ?? '')}>{formatValue(f.current?.value)}</option>}
        {options.map((o) => (
          <option key={o}>{o}</option>
        ))}
      </select>
    </div>
  );
}

function Light({ w }: { w: Widget }) {
  const power = useField(c(w).power);
  const bright = useField(c(w).brightness);
  const ct = useField(c(w).colorTemperature);
  const rgb = useField(c(w).color);
  const on = truthy(power?.current?.value);
  const color = String(rgb?.current?.value ?? '#ffffff');
  return (
    <div className="light">
      {power ? (
        <button role="switch" aria-checked={on} aria-label={`${w.title || 'Light'} power`} className={`bulb ${on ? 'on' : ''}`} style={on ? { background: color.startsWith('#') ? color : `#${color}` } : undefined} onClick={() => setFieldValue(power.id, on ? 'false' : 'true')}>
          💡
        </button>
      ) : (
        <Missing what="Pick the power field." />
      )}
      {bright && (
        <label>
          Brightness
          <input type="range" min={0} max={Number(c(w).brightnessMax ?? 100)} defaultValue={Number(bright.current?.value ?? 0)} key={String(bright.current?.value)} onPointerUp={(e) => setFieldValue(bright.id, (e.target as HTMLInputElement).value)} onKeyUp={(e) => setFieldValue(bright.id, (e.target as HTMLInputElement).value)} />
        </label>
      )}
      {ct && (
        <label>
          Colour temperature
          <input type="range" className="ct" min={Number(c(w).ctMin ?? 153)} max={Number(c(w).ctMax ?? 500)} defaultValue={Number(ct.current?.value ?? 300)} key={String(ct.current?.value)} onPointerUp={(e) => setFieldValue(ct.id, (e.target as HTMLInputElement).value)} onKeyUp={(e) => setFieldValue(ct.id, (e.target as HTMLInputElement).value)} />
        </label>
      )}
      {rgb && (
        <label>
          Colour <input type="color" value={color.startsWith('#') ? color.slice(0, 7) : `#${color.slice(0, 6)}`} onChange={(e) => setFieldValue(rgb.id, e.target.value.slice(1))} />
        </label>
      )}
    </div>
  );
}

function TimeSeries({ w }: { w: Widget }) {
  const ids = (c(w).fields as string[] | undefined)?.map(fieldId).filter(Boolean) ?? [];
  const range = String(c(w).range || '-6h');
  const fn = String(c(w).fn || 'mean');
  const { data, error } = useSeries({ quickIds: ids.map((i) => `field:${i}`), range, fn });
  if (!ids.length) return <Missing what="Pick one or more fields in the widget's settings." />;
  if (error) return <Missing what={(error as Error).message} />;
  return <Chart data={data} labels={ids.map((i) => i.split('.').slice(-2).join('.'))} kind={(c(w).kind as 'line') || 'line'} />;
}

function FieldTable({ w }: { w: Widget }) {
  const [rows, setRows] = useState<Field[]>([]);
  const key = String(c(w).filterKey || 'id');
  const op = String(c(w).filterOp || 'regex');
  const val = String(c(w).filterValue ?? '');
  const load = () => {
    api
      .get<ListAnswer<Field>>('/api/field', { filter: JSON.stringify(val ? [{ k: key, o: op, v: val }] : []), limit: Number(c(w).limit || 20), sortBy: JSON.stringify([{ f: 'name', o: 'asc' }]) })
      .then((a) => setRows(a.data))
      .catch(() => {});
  };
  useEffect(load, [key, op, val, c(w).limit]);
  useLive(['field'], (e) => setRows((r) => r.map((f) => (f.id === e.entityId ? (e.entity as unknown as Field) : f))), load);
  return (
    <table className="compact">
      <tbody>
        {rows.map((f) => (
          <tr key={f.id}>
            <td>{f.name || f.id}</td>
            <td className="value">{formatValue(f.current?.value, f.unit)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Markdown({ w }: { w: Widget }) {
  return <div className="markdown" dangerouslySetInnerHTML={{ __html: markdown(String(c(w).text ?? '')) }} />;
}

function Image({ w }: { w: Widget }) {
  const [n, setN] = useState(0);
  const every = Number(c(w).refreshSeconds || 0);
  useEffect(() => {
    if (!every) return;
    const t = setInterval(() => setN((x) => x + 1), every * 1000);
    return () => clearInterval(t);
  }, [every]);
  const url = String(c(w).url ?? '');
  if (!url) return <Missing what="Give an image URL in the widget's settings." />;
  const src = every ? `${url}${url.includes('?') ? '&' : '?'}_=${n}` : url;
  return <img className="widget-image" src={src} alt={w.title} />;
}

const RANGE = { key: 'range', label: 'Time range', kind: 'select' as const, options: ['-1h', '-6h', '-24h', '-7d', '-30d'] };

export const WIDGETS: WidgetDef[] = [
  { type: 'value', label: 'Value tile', size: { w: 3, h: 3 }, defaults: {}, config: [{ key: 'field', label: 'Field', kind: 'field' }, { key: 'unit', label: 'Unit (instead of the field’s)', kind: 'text' }], View: ValueTile },
  {
    type: 'chart',
    label: 'Time-series chart',
    size: { w: 6, h: 6 },
    defaults: { range: '-6h', fn: 'mean', kind: 'line', fields: [] },
    config: [
      { key: 'fields', label: 'Fields', kind: 'fields' },
      RANGE,
      { key: 'fn', label: 'Aggregation', kind: 'select', options: ['mean', 'min', 'max', 'last', 'sum', 'count', 'raw'] },
      { key: 'kind', label: 'Chart type', kind: 'select', options: ['line', 'area', 'bar'] },
    ],
    View: TimeSeries,
  },
  { type: 'gauge', label: 'Gauge', size: { w: 3, h: 4 }, defaults: { min: 0, max: 100 }, config: [{ key: 'field', label: 'Field', kind: 'field' }, { key: 'min', label: 'Minimum', kind: 'number' }, { key: 'max', label: 'Maximum', kind: 'number' }], View: Gauge },
  { type: 'switch', label: 'Switch', size: { w: 3, h: 2 }, defaults: {}, config: [{ key: 'field', label: 'Field', kind: 'field' }, { key: 'onPayload', label: 'Send for on', kind: 'text', hint: 'default true' }, { key: 'offPayload', label: 'Send for off', kind: 'text', hint: 'default false' }], View: Toggle },
  { type: 'button', label: 'Button', size: { w: 2, h: 2 }, defaults: { payload: 'true' }, config: [{ key: 'field', label: 'Field', kind: 'field' }, { key: 'payload', label: 'Send', kind: 'text' }, { key: 'label', label: 'Button text', kind: 'text' }], View: PushButton },
  { type: 'slider', label: 'Slider', size: { w: 4, h: 2 }, defaults: { min: 0, max: 100, step: 1 }, config: [{ key: 'field', label: 'Field', kind: 'field' }, { key: 'min', label: 'Minimum', kind: 'number' }, { key: 'max', label: 'Maximum', kind: 'number' }, { key: 'step', label: 'Step', kind: 'number' }], View: Slider },
  { type: 'select', label: 'Select', size: { w: 3, h: 2 }, defaults: {}, config: [{ key: 'field', label: 'Field', kind: 'field' }, { key: 'options', label: 'Options', kind: 'text', hint: 'comma-separated' }], View: Select },
  {
    type: 'light',
    label: 'Light',
    size: { w: 3, h: 4 },
    defaults: {},
    config: [
      { key: 'power', label: 'Power field', kind: 'field' },
      { key: 'brightness', label: 'Brightness field', kind: 'field' },
      { key: 'colorTemperature', label: 'Colour temperature field', kind: 'field' },
      { key: 'color', label: 'RGB colour field', kind: 'field' },
    ],
    View: Light,
  },
  {
    type: 'table',
    label: 'Table of fields',
    size: { w: 4, h: 5 },
    defaults: { filterKey: 'id', filterOp: 'regex', filterValue: '', limit: 20 },
    config: [
      { key: 'filterKey', label: 'Filter on', kind: 'text', hint: 'key path, e.g. labels.room' },
      { key: 'filterOp', label: 'Operator', kind: 'select', options: ['eq', 'ne', 'regex', 'gt', 'lt', 'exists'] },
      { key: 'filterValue', label: 'Value', kind: 'text' },
      { key: 'limit', label: 'At most', kind: 'number' },
    ],
    View: FieldTable,
  },
  { type: 'markdown', label: 'Text (Markdown)', size: { w: 4, h: 3 }, defaults: { text: '## Notes' }, config: [{ key: 'text', label: 'Text', kind: 'textarea' }], View: Markdown },
  { type: 'image', label: 'Image', size: { w: 4, h: 4 }, defaults: {}, config: [{ key: 'url', label: 'Image URL', kind: 'text' }, { key: 'refreshSeconds', label: 'Reload every (s)', kind: 'number' }], View: Image },
];

export function widgetDef(type: string): WidgetDef | undefined {
  return WIDGETS.find((w) => w.type === type);
}

/** Every field id a widget reads, for the dashboard's field store. */
export function widgetFields(w: Widget): string[] {
  const cfg = w.config as Record<string, unknown>;
  const out: string[] = [];
  for (const item of widgetDef(w.type)?.config ?? []) {
    if (item.kind === 'field' && cfg[item.key]) out.push(fieldId(cfg[item.key]));
    if (item.kind === 'fields' && Array.isArray(cfg[item.key])) out.push(...(cfg[item.key] as string[]).map(fieldId));
  }
  return out;
}
