// The fields a dashboard shows, loaded once and kept current from the websocket, shared by its
// widgets through context.

import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api } from '../api/client';
import { useLive } from '../api/live';
import type { Field, ListAnswer } from '../api/types';

const Ctx = createContext<Record<string, Field>>({});

/** A field id from a config value: `field:gw.1.2.V_TEMP` or `gw.1.2.V_TEMP`. */
export function fieldId(v: unknown): string {
  const s = String(v ?? '').trim();
  return s.startsWith('field:') ? s.slice(6) : s;
}

export function FieldStore({ ids, children }: { ids: string[]; children: ReactNode }) {
  const [fields, setFields] = useState<Record<string, Field>>({});
  const key = [...new Set(ids.filter(Boolean))].sort().join('|');
  const load = () => {
    const list = key ? key.split('|') : [];
    if (!list.length) return;
    api
      .get<ListAnswer<Field>>('/api/field', { filter: JSON.stringify([{ k: 'id', o: 'in', v: list }]), limit: -1 })
      .then((a) => setFields(Object.fromEntries(a.data.map((f) => [f.id, f]))))
      .catch(() => {});
  };
  useEffect(load, [key]);
  useLive(
    ['field'],
    (e) => {
      if (!key.split('|').includes(e.entityId)) return;
      setFields((f) => {
        const next = { ...f };
        if (e.type === 'deleted') delete next[e.entityId];
        else next[e.entityId] = e.entity as unknown as Field;
        return next;
      });
    },
    load,
  );
  const value = useMemo(() => fields, [fields]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useField(id: unknown): Field | undefined {
  return useContext(Ctx)[fieldId(id)];
}
