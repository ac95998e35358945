// Pick a field by typing part of its name or id; offers matches from the server as you type.

import { useEffect, useId, useState } from 'react';
import { api } from '../api/client';
import type { Field, ListAnswer } from '../api/types';
import { escapeRegex } from '../lib/listQuery';

export function FieldPicker({ value, onChange, label, prefix = false }: { value: string; onChange: (v: string) => void; label?: string; prefix?: boolean }) {
  const list = useId();
  const [options, setOptions] = useState<Field[]>([]);
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  useEffect(() => {
    const q = text.replace(/^field:/, '').trim();
    const t = setTimeout(() => {
      const filter = q ? [{ k: 'id', o: 'regex', v: escapeRegex(q) }] : [];
      const byName = q ? [{ k: 'name', o: 'regex', v: escapeRegex(q) }] : [];
      Promise.all([
        api.get<ListAnswer<Field>>('/api/field', { filter: JSON.stringify(filter), limit: 15 }),
        q ? api.get<ListAnswer<Field>>('/api/field', { filter: JSON.stringify(byName), limit: 15 }) : Promise.resolve({ data: [] as Field[] }),
      ])
        .then(([a, b]) => {
          const seen = new Map<string, Field>();
          [...a.data, ...b.data].forEach((f) => seen.set(f.id, f));
          setOptions([...seen.values()]);
        })
        .catch(() => {});
    }, 200);
    return () => clearTimeout(t);
  }, [text]);
  return (
    <>
      <input
        list={list}
        aria-label={label ?? 'Field'}
        placeholder="type a field name or id"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          onChange(e.target.value);
        }}
      />
      <datalist id={list}>
        {options.map((f) => (
          <option key={f.id} value={prefix ? `field:${f.id}` : f.id}>
            {f.name} {f.unit && `(${f.unit})`}
          </option>
        ))}
      </datalist>
    </>
  );
}
