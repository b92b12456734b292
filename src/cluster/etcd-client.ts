/**
 * A small etcd v3 client over etcd's HTTP/JSON gateway (`POST /v3/...`, keys and values base64),
 * with node's http module only: the broker has no run-time dependencies. It does what the cluster
 * needs: range / put / delete, a create-if-absent transaction, leases (grant, keep-alive, revoke)
 * and a streaming watch of a prefix.
 *
 * Several endpoints: requests go to the endpoint that answered last; one that cannot be reached or
 * times out is skipped for the next, in order, so a client survives the loss of an etcd member.
 * An answer from etcd itself (an error code in the JSON) is not retried elsewhere: it is the
 * cluster's answer, and every member would give the same.
 */
import { Agent, request, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** etcd refused the request (its gRPC code and message), e.g. 5 "requested lease not found". */
export class EtcdError extends Error {
  override readonly name = 'EtcdError';
  constructor(readonly code: number, message: string, readonly endpoint: string) {
    super(`etcd ${endpoint}: ${message} (code ${code})`);
  }
}

/** No endpoint answered; `causes` says why each failed. */
export class EtcdUnavailableError extends Error {
  override readonly name = 'EtcdUnavailableError';
  constructor(readonly causes: string[]) {
    super(`no etcd endpoint reachable: ${causes.join('; ')}`);
  }
}

export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  /** The lease the key is attached to, '0' for none. */
  lease: string;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
}

export interface Watch {
  close(): void;
}

export interface EtcdClientOptions {
  /** Per request, before the endpoint is given up for the next one. Default 1500 ms. */
  timeoutMs?: number;
  /**
   * HTTPS to every endpoint (cluster_formation.etcd.scheme = https): the CA that signed etcd's
   * certificate, and a client certificate and key when etcd asks for one (--client-cert-auth).
   */
  tls?: EtcdTls;
}

export interface EtcdTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Check etcd's certificate against `ca` (or the system's CAs) and its name (default true). */
  verify?: boolean;
  /** The name etcd's certificate must carry, when it is not the endpoint's host. */
  serverName?: string;
}

interface RawKv {
  key?: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
  lease?: string;
}

interface RawResponse {
  header?: { revision?: string };
  kvs?: RawKv[];
  deleted?: string;
  succeeded?: boolean;
  responses?: Array<{ response_range?: { kvs?: RawKv[] } }>;
  ID?: string;
  TTL?: string;
  result?: RawResponse & { events?: Array<{ type?: string; kv?: RawKv }>; created?: boolean; canceled?: boolean; compact_revision?: string };
  error?: string | { message?: string; grpc_code?: number; http_code?: number };
  message?: string;
  code?: number;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');

/** The first key after every key starting with prefix (etcd's range_end for a prefix scan). */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i]! += 1;
      return end.toString('base64');
    }
  }
  return b64('\0');
}

function toKv(raw: RawKv): KeyValue {
  return {
    key: unb64(raw.key),
    value: unb64(raw.value),
    createRevision: Number(raw.create_revision ?? 0),
    modRevision: Number(raw.mod_revision ?? 0),
    lease: raw.lease ?? '0',
  };
}

/** `host:port`, `http(s)://host:port` or `[::1]:port` → host and port. */
export function parseEndpoint(endpoint: string): { host: string; port: number } {
  const bare = endpoint.replace(/^https?:\/\//, '').replace(/\/$/, '');
  const m = /^\[([^\]]+)\]:([0-9]+)$/.exec(bare) ?? /^([^:]+):([0-9]+)$/.exec(bare);
  if (!m) throw new Error(`bad etcd endpoint "${endpoint}": expected host:port`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new Error(`bad etcd endpoint "${endpoint}": port out of range`);
  return { host: m[1]!, port };
}

export class EtcdClient {
  private readonly endpoints: Array<{ name: string; host: string; port: number }>;
  /** Index of the endpoint that answered last; requests start there. */
  private current = 0;
  private readonly agent: Agent;
  private readonly tls: EtcdTls | undefined;
  private readonly timeoutMs: number;
  private closed = false;

  constructor(endpoints: string[], o: EtcdClientOptions = {}) {
    if (endpoints.length === 0) throw new Error('etcd: no endpoint given');
    this.endpoints = endpoints.map((e) => ({ name: e, ...parseEndpoint(e) }));
    this.timeoutMs = o.timeoutMs ?? 1500;
    this.tls = o.tls;
    this.agent = o.tls ? new HttpsAgent({ keepAlive: true, maxSockets: 8, ...tlsOptions(o.tls) }) : new Agent({ keepAlive: true, maxSockets: 8 });
  }

  /** An HTTP(S) request to one endpoint: over this client's pooled agent, or (`pooled` false) a socket of its own. */
  private send(options: RequestOptions, onResponse: (res: IncomingMessage) => void, pooled = true): ClientRequest {
    const o = pooled ? { ...options, agent: this.agent } : { ...options, agent: false as const, ...(this.tls ? tlsOptions(this.tls) : {}) };
    return this.tls ? httpsRequest(o, onResponse) : request(o, onResponse);
  }

  /** The endpoint requests go to now (host:port as configured). */
  get endpoint(): string {
    return this.endpoints[this.current]!.name;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const r = await this.call('/v3/kv/range', { key: b64(key) });
    return r.kvs?.[0] ? toKv(r.kvs[0]) : undefined;
  }

  /** Every key starting with prefix, in key order, and the store's revision they were read at. */
  async getPrefix(prefix: string): Promise<{ kvs: KeyValue[]; revision: number }> {
    const r = await this.call('/v3/kv/range', { key: b64(prefix), range_end: prefixEnd(prefix) });
    return { kvs: (r.kvs ?? []).map(toKv), revision: Number(r.header?.revision ?? 0) };
  }

  async put(key: string, value: string, o: { lease?: string } = {}): Promise<void> {
    await this.call('/v3/kv/put', { key: b64(key), value: b64(value), ...(o.lease ? { lease: o.lease } : {}) });
  }

  /** Deletes key; returns how many keys went (0 or 1). */
  async delete(key: string): Promise<number> {
    const r = await this.call('/v3/kv/deleterange', { key: b64(key) });
    return Number(r.deleted ?? 0);
  }

  async deletePrefix(prefix: string): Promise<number> {
    const r = await this.call('/v3/kv/deleterange', { key: b64(prefix), range_end: prefixEnd(prefix) });
    return Number(r.deleted ?? 0);
  }

  /**
   * Puts key only if it does not exist, atomically (a transaction comparing its create revision
   * with 0). Returns whether this call created it, and otherwise the value that is there.
   */
  async createIfAbsent(key: string, value: string, o: { lease?: string } = {}): Promise<{ created: true } | { created: false; current: KeyValue | undefined }> {
    const k = b64(key);
    const r = await this.call('/v3/kv/txn', {
      compare: [{ key: k, target: 'CREATE', result: 'EQUAL', create_revision: '0' }],
      success: [{ request_put: { key: k, value: b64(value), ...(o.lease ? { lease: o.lease } : {}) } }],
      failure: [{ request_range: { key: k } }],
    });
    if (r.succeeded) return { created: true };
    const kv = r.responses?.[0]?.response_range?.kvs?.[0];
    return { created: false, current: kv ? toKv(kv) : undefined };
  }

  /** Deletes key only if its value is still `value` (e.g. a leader stepping down removes only its own key). */
  async deleteIfValue(key: string, value: string): Promise<boolean> {
    const k = b64(key);
    const r = await this.call('/v3/kv/txn', {
      compare: [{ key: k, target: 'VALUE', result: 'EQUAL', value: b64(value) }],
      success: [{ request_delete_range: { key: k } }],
      failure: [],
    });
    return r.succeeded === true;
  }

  /** Puts key = value only if guard.key still holds guard.value (e.g. the in-sync set, written only by the current leader). */
  async putIf(guard: { key: string; value: string }, key: string, value: string): Promise<boolean> {
    const r = await this.call('/v3/kv/txn', {
      compare: [{ key: b64(guard.key), target: 'VALUE', result: 'EQUAL', value: b64(guard.value) }],
      success: [{ request_put: { key: b64(key), value: b64(value) } }],
      failure: [],
    });
    return r.succeeded === true;
  }

  /**
   * One atomic transaction: if every guard holds (`value`: the key holds exactly that; `absent`:
   * the key does not exist), deletes the keys of `remove` and puts those of `put`, in order.
   * Returns whether the guards held (and so the writes were made).
   */
  async writeIf(guards: ({ key: string; value: string } | { key: string; absent: true })[], ops: { remove?: string[]; put?: { key: string; value: string }[] }): Promise<boolean> {
    const r = await this.call('/v3/kv/txn', {
      compare: guards.map((g) => ('absent' in g
        ? { key: b64(g.key), target: 'CREATE', result: 'EQUAL', create_revision: '0' }
        : { key: b64(g.key), target: 'VALUE', result: 'EQUAL', value: b64(g.value) })),
      success: [
        ...(ops.remove ?? []).map((key) => ({ request_delete_range: { key: b64(key) } })),
        ...(ops.put ?? []).map((kv) => ({ request_put: { key: b64(kv.key), value: b64(kv.value) } })),
      ],
      failure: [],
    });
    return r.succeeded === true;
  }

  /** A new lease of ttlSeconds; returns its id (a decimal string: etcd's ids are 64-bit). */
  async grantLease(ttlSeconds: number): Promise<string> {
    const r = await this.call('/v3/lease/grant', { TTL: String(ttlSeconds) });
    if (!r.ID) throw new Error(`etcd ${this.endpoint}: lease grant answered without an id`);
    return r.ID;
  }

  /** Refreshes a lease; returns its TTL in seconds, 0 when etcd no longer has it (expired or revoked). */
  async keepAlive(lease: string): Promise<number> {
    const r = await this.call('/v3/lease/keepalive', { ID: lease });
    return Number(r.result?.TTL ?? 0);
  }

  /** Revokes a lease, deleting its keys; a lease etcd no longer has is not an error. */
  async revokeLease(lease: string): Promise<void> {
    try {
      await this.call('/v3/lease/revoke', { ID: lease });
    } catch (e) {
      if (!(e instanceof EtcdError && e.code === 5)) throw e;
    }
  }

  /**
   * Streams changes of keys under prefix, from revision `fromRevision` on (default: from now).
   * When the stream breaks (endpoint lost, etcd restarted), it is re-opened on the next endpoint
   * from the revision after the last event seen; `onReset` is called if events may have been
   * missed (history compacted), so the caller re-reads the whole prefix.
   */
  watchPrefix(prefix: string, onEvent: (e: WatchEvent) => void, o: { fromRevision?: number; onReset?: () => void } = {}): Watch {
    let next = o.fromRevision ?? 0;
    let stopped = false;
    let response: IncomingMessage | undefined;
    let retry: NodeJS.Timeout | undefined;
    const open = (attempt: number) => {
      if (stopped || this.closed) return;
      const ep = this.endpoints[(this.current + attempt) % this.endpoints.length]!;
      const body = JSON.stringify({ create_request: { key: b64(prefix), range_end: prefixEnd(prefix), ...(next > 0 ? { start_revision: String(next) } : {}) } });
      const again = () => {
        response = undefined;
        if (!stopped) retry = setTimeout(() => open(attempt + 1), 200);
      };
      // A socket of its own: the stream holds it for as long as the watch lasts.
      const req = this.send({ host: ep.host, port: ep.port, method: 'POST', path: '/v3/watch', headers: { 'content-type': 'application/json' } }, (res) => {
        response = res;
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          // The gateway writes one JSON object per line.
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (line) handle(line);
          }
        });
        res.on('end', again);
        res.on('error', again);
      }, false);
      const handle = (line: string) => {
        let msg: RawResponse;
        try {
          msg = JSON.parse(line) as RawResponse;
        } catch {
          return;
        }
        const result = msg.result;
        if (!result) return;
        if (result.compact_revision && Number(result.compact_revision) > 0) {
          // The history we asked for is gone: restart from now and let the caller re-read.
          next = 0;
          o.onReset?.();
          response?.destroy();
          return;
        }
        for (const ev of result.events ?? []) {
          const kv = toKv(ev.kv ?? {});
          next = Math.max(next, kv.modRevision + 1);
          if (!stopped) onEvent({ type: ev.type === 'DELETE' ? 'delete' : 'put', kv });
        }
        if (result.created && attempt > 0 && next === 0) o.onReset?.();
      };
      req.on('error', again);
      req.end(body);
    };
    open(0);
    return {
      close: () => {
        stopped = true;
        clearTimeout(retry);
        response?.destroy();
      },
    };
  }

  close(): void {
    this.closed = true;
    this.agent.destroy();
  }

  /** One request, trying each endpoint once starting with the current one. */
  private async call(path: string, body: unknown): Promise<RawResponse> {
    if (this.closed) throw new Error('etcd client closed');
    const causes: string[] = [];
    const text = JSON.stringify(body);
    for (let i = 0; i < this.endpoints.length; i++) {
      const index = (this.current + i) % this.endpoints.length;
      const ep = this.endpoints[index]!;
      let status: number;
      let answer: string;
      try {
        ({ status, answer } = await this.post(ep, path, text));
      } catch (e) {
        causes.push(`${ep.name}: ${(e as Error).message}`);
        continue;
      }
      let parsed: RawResponse;
      try {
        parsed = JSON.parse(answer) as RawResponse;
      } catch {
        causes.push(`${ep.name}: HTTP ${status}, not JSON: ${answer.slice(0, 100)}`);
        continue;
      }
      const error = errorOf(parsed);
      // 14 UNAVAILABLE / 4 DEADLINE_EXCEEDED: this member has no leader or is cut off; another may answer.
      if (error && (error.code === 14 || error.code === 4)) {
        causes.push(`${ep.name}: ${error.message}`);
        continue;
      }
      this.current = index;
      if (error) throw new EtcdError(error.code, error.message, ep.name);
      if (status !== 200) throw new EtcdError(2, `HTTP ${status}`, ep.name);
      return parsed;
    }
    throw new EtcdUnavailableError(causes);
  }

  private post(ep: { host: string; port: number }, path: string, body: string): Promise<{ status: number; answer: string }> {
    return new Promise((resolve, reject) => {
      const req = this.send({
        host: ep.host, port: ep.port, method: 'POST', path,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, answer: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
      });
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      req.end(body);
    });
  }
}

function tlsOptions(t: EtcdTls): Record<string, unknown> {
  return {
    ...(t.ca ? { ca: t.ca } : {}),
    ...(t.cert ? { cert: t.cert } : {}),
    ...(t.key ? { key: t.key } : {}),
    rejectUnauthorized: t.verify !== false,
    ...(t.serverName ? { servername: t.serverName } : {}),
  };
}

/** The gateway reports errors as {error, message, code} (or {error: {grpc_code, message}} inside a stream). */
function errorOf(r: RawResponse): { code: number; message: string } | undefined {
  if (r.error === undefined) return undefined;
  if (typeof r.error === 'object') return { code: r.error.grpc_code ?? 2, message: r.error.message ?? 'error' };
  return { code: r.code ?? 2, message: r.message ?? r.error };
}
