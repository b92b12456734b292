/**
 * The management HTTP API as the UI uses it: same-origin fetches with the logged-in user's basic
 * credentials, RabbitMQ's `{error, reason}` bodies turned into ApiError.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const STORAGE_KEY = 'warren-auth';
let authorization: string | undefined = sessionStorage.getItem(STORAGE_KEY) ?? undefined;
let onLoggedOut: (() => void) | undefined;

export function basicAuth(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

export function hasCredentials(): boolean {
  return authorization !== undefined;
}

export function setCredentials(value: string | undefined): void {
  authorization = value;
  if (value === undefined) sessionStorage.removeItem(STORAGE_KEY);
  else sessionStorage.setItem(STORAGE_KEY, value);
}

/** Called when the stored credentials stop working (password changed, user deleted). */
export function whenLoggedOut(fn: () => void): void {
  onLoggedOut = fn;
}

export async function request<T>(method: string, path: string, body?: unknown, auth = authorization, extra: Record<string, string> = {}): Promise<T> {
  const headers: Record<string, string> = { ...extra };
  if (auth) headers['authorization'] = auth;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/api${path}`, {
    method,
    headers,
    body: body === undefined ? null : JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const reason = (json as { reason?: unknown } | undefined)?.reason;
    const message = typeof reason === 'string' ? reason : reason !== undefined ? JSON.stringify(reason) : `${res.status} ${res.statusText}`;
    if (res.status === 401 && auth === authorization && message === 'Login failed') {
      setCredentials(undefined);
      onLoggedOut?.();
    }
    throw new ApiError(res.status, message);
  }
  return json as T;
}

export const get = <T>(path: string) => request<T>('GET', path);
export const put = (path: string, body: unknown = {}) => request<unknown>('PUT', path, body);
export const post = <T = unknown>(path: string, body: unknown) => request<T>('POST', path, body);
export const del = (path: string, body?: unknown) => request<unknown>('DELETE', path, body);

/** One path segment, encoded as RabbitMQ's UI and API do (`/` → `%2F`). */
export const enc = (s: string) => encodeURIComponent(s);
