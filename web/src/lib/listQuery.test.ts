import { describe, expect, it } from 'vitest';
import { applyEvent, listParams, type ListState } from './listQuery';
import type { LiveEvent } from '../api/types';
import { ago, formatValue, truthy } from './format';

const base: ListState = { search: '', searchKey: 'id', filters: [], sortField: 'id', sortDesc: false, page: 0, pageSize: 25 };

describe('list query', () => {
  it('asks the server to filter, sort, search and page', () => {
    const p = listParams(
      { ...base, search: 'hall.1', filters: [{ k: 'labels.room', o: 'in', v: 'hall, kitchen' }], sortDesc: true, page: 2 },
      [{ k: 'gatewayId', o: 'eq', v: 'gw' }],
    );
    expect(p.limit).toBe('25');
    expect(p.offset).toBe('50');
    expect(JSON.parse(p.sortBy)).toEqual([{ f: 'id', o: 'desc' }]);
    expect(JSON.parse(p.filter)).toEqual([
      { k: 'gatewayId', o: 'eq', v: 'gw' },
      { k: 'labels.room', o: 'in', v: ['hall', 'kitchen'] },
      { k: 'id', o: 'regex', v: 'hall\\.1' },
    ]);
  });

  it('leaves out empty filters', () => {
    const p = listParams({ ...base, filters: [{ k: '', o: 'eq', v: 'x' }] });
    expect(p.filter).toBeUndefined();
  });
});

describe('live events on a page', () => {
  const rows = [{ id: 'a', v: 1 }, { id: 'b', v: 2 }];
  const ev = (type: LiveEvent['type'], id: string, entity: object = {}): LiveEvent => ({
    type, entityType: 'field', entityId: id, entityQuickId: `field:${id}`, entity: entity as Record<string, unknown>,
  });

  it('replaces an updated row in place without asking the server', () => {
    const r = applyEvent(rows, 'field', ev('updated', 'b', { id: 'b', v: 3 }));
    expect(r).toEqual({ rows: [{ id: 'a', v: 1 }, { id: 'b', v: 3 }], refetch: false });
  });

  it('fetches the page again when rows may come or go', () => {
    expect(applyEvent(rows, 'field', ev('created', 'c')).refetch).toBe(true);
    const del = applyEvent(rows, 'field', ev('deleted', 'a'));
    expect(del.rows.map((r) => r.id)).toEqual(['b']);
    expect(del.refetch).toBe(true);
  });

  it('ignores other resources and requests', () => {
    expect(applyEvent(rows, 'node', ev('updated', 'a'))).toEqual({ rows, refetch: false });
    expect(applyEvent(rows, 'field', ev('requested', 'a')).refetch).toBe(false);
  });
});

describe('formatting', () => {
  it('reads like a person would say it', () => {
    const now = Date.parse('2024-01-01T12:00:00Z');
    expect(ago('2024-01-01T11:58:00Z', now)).toBe('2 min ago');
    expect(ago(null, now)).toBe('never');
    expect(formatValue(21.456, '°C')).toBe('21.46 °C');
    expect(formatValue(true)).toBe('on');
    expect(truthy('1') && truthy('ON') && !truthy('0') && !truthy(null)).toBe(true);
  });
});

import { setSetting, switchProvider, TRANSPORTS } from './providers';

describe('gateway form', () => {
  it('keeps only what the user filled, typed by kind', () => {
    const port = TRANSPORTS.mqtt.find((s) => s.key === 'qos')!;
    expect(setSetting({ type: 'mqtt' }, port, '1')).toEqual({ type: 'mqtt', qos: 1 });
    expect(setSetting({ type: 'mqtt', qos: 1 }, port, '')).toEqual({ type: 'mqtt' });
  });
  it('keeps a transport the new provider supports, else picks its first', () => {
    const mqtt = { type: 'mqtt', broker: 'tcp://x:1883' };
    expect(switchProvider({ type: 'mysensors_v2', protocol: mqtt }, 'tasmota')).toEqual({ type: 'tasmota', protocol: mqtt });
    expect(switchProvider({ type: 'mysensors_v2', protocol: { type: 'serial' } }, 'tasmota')).toEqual({ type: 'tasmota', protocol: { type: 'mqtt' } });
    expect(switchProvider({ type: 'tasmota', protocol: mqtt }, 'philips_hue')).toEqual({ type: 'philips_hue' });
  });
});
