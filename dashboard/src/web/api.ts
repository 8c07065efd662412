// The page's side of the dashboard API: the token (kept in sessionStorage, so it ends with the tab), fetch with the
// bearer header, and the live event stream (EventSource sends the HttpOnly session cookie POST /api/session set).
import type { HostRow } from './types.js';

export const BASE = document.getElementById('app')?.dataset.base ?? '';
const TOKEN_KEY = 'anvil.dashboard.token';

export const savedToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const saveToken = (token: string): void => sessionStorage.setItem(TOKEN_KEY, token);
export const forgetToken = (): void => sessionStorage.removeItem(TOKEN_KEY);

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, payload?: unknown): Promise<T> {
  const token = savedToken();
  const headers: Record<string, string> = { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(payload !== undefined ? { 'Content-Type': 'application/json' } : {}) };
  const res = await fetch(`${BASE}${path}`, { method, headers, credentials: 'same-origin', ...(payload !== undefined ? { body: JSON.stringify(payload) } : {}) });
  const body = res.status === 204 ? undefined : ((await res.json().catch(() => undefined)) as { message?: string } | undefined);
  if (!res.ok) throw new ApiError(res.status, body?.message ?? `${res.status} ${res.statusText}`);
  return body as T;
}

export const getJson = <T>(path: string): Promise<T> => call<T>('GET', path);
export const postJson = <T>(path: string, body: unknown): Promise<T> => call<T>('POST', path, body);
export const startSession = (): Promise<{ username: string }> => call('POST', '/api/session');
export const endSession = (): Promise<void> => call('DELETE', '/api/session');

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'denied';
export interface HostEvent {
  type: 'added' | 'changed' | 'removed';
  host: HostRow;
}

/** Opens the event stream; reopens it (with a fresh session cookie) when it drops. Returns the function that closes it. */
export function liveHosts(onHost: (e: HostEvent) => void, onState: (s: LiveState) => void): () => void {
  let source: EventSource | undefined;
  let timer: number | undefined;
  let closed = false;
  const open = async (): Promise<void> => {
    try {
      await startSession();
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        onState('denied');
        return;
      }
    }
    if (closed) return;
    source = new EventSource(`${BASE}/api/events`);
    source.addEventListener('ready', () => onState('live'));
    source.addEventListener('host', (e) => onHost(JSON.parse((e as MessageEvent<string>).data) as HostEvent));
    source.addEventListener('unauthorized', () => onState('denied'));
    source.onerror = () => {
      // The browser retries by itself unless the server refused (the cookie expired): then start over.
      onState('reconnecting');
      if (source?.readyState === EventSource.CLOSED && !closed) {
        source.close();
        timer = window.setTimeout(() => void open(), 2000);
      }
    };
  };
  onState('connecting');
  void open();
  return () => {
    closed = true;
    window.clearTimeout(timer);
    source?.close();
  };
}
