/**
 * HTTP plumbing for the management API: RabbitMQ's error bodies ({"error", "reason"}), reading and
 * parsing request bodies with a size limit, and writing JSON answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An answer other than 2xx; `reason` is a string or, like RabbitMQ's regex errors, any JSON. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: unknown,
    readonly headers: Record<string, string> = {},
    /** A body other than {error, reason} (failed health checks answer {status, reason, …}). */
    readonly body?: unknown,
  ) {
    super(typeof reason === 'string' ? reason : JSON.stringify(reason));
  }
}

export const badRequest = (reason: unknown) => new HttpError(400, 'bad_request', reason);
export const objectNotFound = () => new HttpError(404, 'Object Not Found', 'Not Found');
export const notFound = (reason: string) => new HttpError(404, 'not_found', reason);
/** RabbitMQ spells it "not_authorised" for tag and vhost refusals (and "not_authorized" for logins). */
export const notAuthorised = (reason: string) => new HttpError(401, 'not_authorised', reason);

/** A successful answer with a status other than 200, or extra headers. */
export class Reply {
  constructor(
    readonly status: number,
    readonly body?: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

/** Request bodies above this are refused (definitions of a large broker fit comfortably). */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpError(413, 'bad_request', `request body larger than ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** An empty body counts as `{}` (RabbitMQ allows `PUT /api/vhosts/x` without one). */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest('not_json');
  }
  // RabbitMQ's hint for the usual mistake: a body encoded twice.
  if (typeof value === 'string') throw badRequest('invalid payload: the request body JSON-decoded to a string. Is the input doubly-JSON-encoded?');
  // `null` is no body at all, as for RabbitMQ.
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest('not_json');
  return value as Record<string, unknown>;
}

/** Sent with every API answer, as RabbitMQ's management listener does. */
export const CONTENT_SECURITY_POLICY = "script-src 'self' 'unsafe-eval' 'unsafe-inline'; object-src 'self'";
/** After content negotiation (a resource was found and the user let in), RabbitMQ varies on all three. */
const VARY_NEGOTIATED = 'accept, accept-encoding, origin';

/**
 * A JSON answer (no body: no content-type). `cache-control: no-cache` only on what RabbitMQ
 * replies with a document (`reply`): reads and the results of POSTs, not writes' empty answers
 * nor errors.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, reply = false): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    'content-length': Buffer.byteLength(text),
    ...(reply ? { 'cache-control': 'no-cache' } : {}),
    'content-security-policy': CONTENT_SECURITY_POLICY,
    vary: VARY_NEGOTIATED,
    ...headers,
  });
  res.end(text);
}

/**
 * An error answer. Refusals made before RabbitMQ negotiates content (unknown path, wrong method,
 * failed login or tag check: `early`) vary on `origin` only.
 */
export function sendError(res: ServerResponse, e: HttpError, early = false): void {
  const headers = early ? { vary: 'origin', ...e.headers } : e.headers;
  if (e.body === '') {
    res.writeHead(e.status, { 'content-length': 0, 'content-security-policy': CONTENT_SECURITY_POLICY, vary: VARY_NEGOTIATED, ...headers });
    res.end();
    return;
  }
  sendJson(res, e.status, e.body ?? { error: e.error, reason: e.reason }, headers);
}
