// One websocket to /api/ws for the whole console. Pages subscribe with the entity types they
// show; the socket asks the server only for the union of those. It reconnects with backoff and
// tells subscribers when it has, so they can fetch what they may have missed.

import { useEffect, useRef, useSyncExternalStore } from 'react';
import { getToken } from './client';
import type { LiveEvent } from './types';

export type LiveStatus = 'connecting' | 'live' | 'offline';

interface Sub {
  types: string[];
  onEvent: (e: LiveEvent) => void;
  onReconnect?: () => void;
}

const subs = new Set<Sub>();
let socket: WebSocket | null = null;
let status: LiveStatus = 'offline';
let retry = 0;
let retryTimer: ReturnType<typeof setTimeout> | null = null;
let everConnected = false;
const statusListeners = new Set<() => void>();

function setStatus(s: LiveStatus) {
  status = s;
  statusListeners.forEach((f) => f());
}

function wanted(): string[] {
  const all = new Set<string>();
  for (const s of subs) s.types.forEach((t) => all.add(t));
  return [...all].sort();
}

function sendSubscription() {
  if (socket?.readyState !== WebSocket.OPEN || status !== 'live') return;
  socket.send(JSON.stringify({ subscribe: { entityTypes: wanted() } }));
}

function connect() {
  const token = getToken();
  if (!token || socket) return;
  setStatus('connecting');
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${proto}://${location.host}/api/ws`);
  socket = ws;
  ws.onopen = () => ws.send(JSON.stringify({ token }));
  ws.onmessage = (m) => {
    let msg: { type: string; data: unknown };
    try {
      msg = JSON.parse(String(m.data));
    } catch {
      return;
    }
    if (msg.type === 'authenticated') {
      retry = 0;
      setStatus('live');
      sendSubscription();
      if (everConnected) subs.forEach((s) => s.onReconnect?.());
      everConnected = true;
    } else if (msg.type === 'event') {
      const e = msg.data as LiveEvent;
      for (const s of subs) if (s.types.includes(e.entityType)) s.onEvent(e);
    }
  };
  ws.onclose = () => {
    if (socket === ws) socket = null;
    setStatus('offline');
    if (!getToken() || subs.size === 0) return;
    const wait = Math.min(30_000, 500 * 2 ** retry++);
    retryTimer = setTimeout(() => {
      retryTimer = null;
      connect();
    }, wait);
  };
}

export function disconnectLive() {
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
  everConnected = false;
  const s = socket;
  socket = null;
  s?.close();
  setStatus('offline');
}

export function subscribe(sub: Sub): () => void {
  subs.add(sub);
  if (!socket) connect();
  else sendSubscription();
  return () => {
    subs.delete(sub);
    sendSubscription();
  };
}

export function useLiveStatus(): LiveStatus {
  return useSyncExternalStore(
    (f) => {
      statusListeners.add(f);
      return () => statusListeners.delete(f);
    },
    () => status,
  );
}

/** Calls `onEvent` for each event about these entity types while the component is mounted. */
export function useLive(types: string[], onEvent: (e: LiveEvent) => void, onReconnect?: () => void) {
  const handler = useRef(onEvent);
  const again = useRef(onReconnect);
  handler.current = onEvent;
  again.current = onReconnect;
  const key = types.join(',');
  useEffect(() => {
    return subscribe({
      types: key.split(','),
      onEvent: (e) => handler.current(e),
      onReconnect: () => again.current?.(),
    });
  }, [key]);
}
