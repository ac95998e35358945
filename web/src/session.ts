// Who is logged in, shared by the shell and the pages.

import { useSyncExternalStore } from 'react';
import { api, setToken } from './api/client';
import { disconnectLive } from './api/live';
import type { Profile } from './api/types';

let profile: Profile | null = null;
const listeners = new Set<() => void>();
function emit() {
  listeners.forEach((f) => f());
}

export function setProfile(p: Profile | null) {
  profile = p;
  emit();
}

export function useProfile(): Profile | null {
  return useSyncExternalStore(
    (f) => {
      listeners.add(f);
      return () => listeners.delete(f);
    },
    () => profile,
  );
}

export async function login(username: string, password: string, remember: boolean): Promise<void> {
  const ans = await api.post<Profile & { token: string }>('/api/user/login', { username, password });
  setToken(ans.token, remember);
  const { token: _t, ...rest } = ans;
  void _t;
  setProfile(await api.get<Profile>('/api/user/profile').then((p) => ({ ...rest, ...p })).catch(() => rest));
}

export async function logout(): Promise<void> {
  try {
    await api.post('/api/user/logout');
  } catch {
    /* the session may be gone already */
  }
  disconnectLive();
  setToken(null);
  setProfile(null);
}

/** What the user may do: viewer < operator < admin. */
export function can(p: Profile | null, level: 'viewer' | 'operator' | 'admin'): boolean {
  if (!p) return false;
  const order = ['viewer', 'operator', 'admin'];
  const have = p.access ? String(p.access).toLowerCase() : p.roles.includes('admin') ? 'admin' : p.roles.includes('operator') ? 'operator' : 'viewer';
  return order.indexOf(have) >= order.indexOf(level);
}
