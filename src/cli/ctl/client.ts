/**
 * warrenctl's way to the broker: the management HTTP API. The URL (with credentials) comes from
 * --url or WARREN_MANAGEMENT_URL; errors become CtlErrors carrying rabbitmqctl's exit codes.
 */

/** rabbitmqctl's exit codes (sysexits.h). */
export const Exit = {
  OK: 0,
  USAGE: 64,
  DATAERR: 65,
  NOUSER: 67,
  UNAVAILABLE: 69,
  SOFTWARE: 70,
  TEMPFAIL: 75,
  NOPERM: 77,
} as const;

export class CtlError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** Printed as is, without rabbitmqctl's "Error:" line (as it prints some refusals, e.g. a missing vhost's 65). */
    readonly bare = false,
  ) {
    super(message);
  }
}

/**
 * A command line rabbitmqctl refuses before doing anything ("not enough arguments.", "Bad
 * argument."): printed as "Error (argument validation): …" with the arguments and the usage.
 */
export class ArgumentError extends CtlError {}

export const DEFAULT_URL = 'http://guest:guest@127.0.0.1:15672';

export interface ApiResponse {
  status: number;
  body: unknown;
}

export class ManagementClient {
  private readonly base: string;
  private readonly authorization: string;
  /** The user the API is called as. */
  readonly username: string;

  constructor(
    url: string,
    private readonly timeoutMs: number,
  ) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new CtlError(`invalid management URL '${url}'`, Exit.USAGE);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new CtlError(`invalid management URL '${url}': only http and https are supported`, Exit.USAGE);
    }
    const user = decodeURIComponent(parsed.username || 'guest');
    this.username = user;
    const password = decodeURIComponent(parsed.password || (parsed.username ? '' : 'guest'));
    this.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    parsed.username = '';
    parsed.password = '';
    this.base = parsed.toString().replace(/\/$/, '');
  }

  /** Where requests go, without credentials (for messages). */
  get url(): string {
    return this.base;
  }

  /** Any answer that arrived (2xx or not); throws only when the broker could not be reached. */
  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    let res: Response;
    // rabbitmqctl lists in the broker's order; the API sorts by vhost and name unless `sort=` is empty.
    const url = method === 'GET' ? `${this.base}${path}${path.includes('?') ? '&' : '?'}sort=` : this.base + path;
    try {
      res = await fetch(url, {
        method,
        headers: { authorization: this.authorization, 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      if (err.name === 'TimeoutError') {
        throw new CtlError(`operation ${method} ${path} timed out after ${this.timeoutMs / 1000} seconds`, Exit.TEMPFAIL);
      }
      const why = err.cause?.code ?? err.message;
      throw new CtlError(`unable to connect to the Warren management API at ${this.base}: ${why}`, Exit.UNAVAILABLE);
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: res.status, body: parsed };
  }

  /** A 2xx answer's body; anything else becomes a CtlError (401 → 77, 404 → 69, other → 70). */
  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<unknown> {
    const res = await this.request(method, path, body, headers);
    if (res.status >= 200 && res.status < 300) return res.body;
    throw apiError(res);
  }

  get(path: string): Promise<unknown> {
    return this.call('GET', path);
  }
}

export function reasonOf(res: ApiResponse): string {
  const b = res.body as { reason?: unknown; error?: unknown } | undefined;
  if (b && typeof b === 'object') {
    const reason = typeof b.reason === 'string' ? b.reason : JSON.stringify(b.reason);
    return reason ?? String(b.error);
  }
  return typeof res.body === 'string' && res.body ? res.body : `HTTP ${res.status}`;
}

export function apiError(res: ApiResponse): CtlError {
  const reason = reasonOf(res);
  if (res.status === 401) return new CtlError(`access refused by the management API: ${reason}`, Exit.NOPERM);
  if (res.status === 404) return new CtlError(reason === 'Not Found' ? 'not_found' : reason, Exit.UNAVAILABLE);
  if (res.status === 400) return new CtlError(reason, Exit.DATAERR);
  return new CtlError(`management API answered ${res.status}: ${reason}`, Exit.SOFTWARE);
}

/** One path segment: `/` becomes %2F as the API expects. */
export const seg = (s: string) => encodeURIComponent(s);
