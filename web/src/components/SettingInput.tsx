import type { Setting } from '../lib/providers';
import { FormRow } from './ui';

export function SettingInput({ s, value, onChange, error }: { s: Setting; value: unknown; onChange: (v: string | boolean) => void; error?: string }) {
  let input;
  if (s.kind === 'bool') {
    input = <input type="checkbox" name={s.key} checked={!!value} onChange={(e) => onChange(e.target.checked)} />;
  } else if (s.kind === 'select') {
    input = (
      <select name={s.key} value={value === undefined ? '' : String(value)} onChange={(e) => onChange(e.target.value)}>
        <option value="">default</option>
        {s.options!.map((o) => (
          <option key={o}>{o}</option>
        ))}
      </select>
    );
  } else {
    input = (
      <input
        name={s.key}
        type={s.kind === 'password' ? 'password' : s.kind === 'number' ? 'number' : 'text'}
        autoComplete={s.kind === 'password' ? 'new-password' : 'off'}
        placeholder={s.placeholder}
        required={s.required}
        value={value === undefined || value === null ? '' : Array.isArray(value) ? value.join(', ') : String(value)}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  }
  return (
    <FormRow label={s.label} hint={s.hint} error={error}>
      {input}
    </FormRow>
  );
}
