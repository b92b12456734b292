/**
 * The definition keys RabbitMQ 3.10 accepts in policies (classic and quorum queues, streams,
 * exchanges, classic mirroring) and in operator policies, with its validation texts. Regular
 * policies' reasons reach HTTP clients HTML-escaped (`&lt;&lt;"x"&gt;&gt;`), operator policies'
 * do not: both are reproduced as RabbitMQ 3.10.8 sends them.
 */
/** A JSON value as a policy definition holds it (the broker's own type: the store depends on the broker, not back). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export class PolicyValidationError extends Error {
  constructor(
    reason: string,
    /** RabbitMQ's policy validator escapes `<` and `>` in its reason, the operator-policy one does not. */
    escape: boolean,
  ) {
    super(escape ? reason.replace(/</g, '&lt;').replace(/>/g, '&gt;') : reason);
  }
}

type Check = (v: JsonValue, def: Record<string, JsonValue>) => string | undefined;

/** How Erlang prints a JSON value in RabbitMQ's messages: strings as binaries, objects as proplists. */
export const erlangTerm = (v: unknown): string => {
  if (typeof v === 'string') return `<<"${v}">>`;
  if (Array.isArray(v)) return `[${v.map(erlangTerm).join(',')}]`;
  if (v !== null && typeof v === 'object') return `[${Object.entries(v).map(([k, x]) => `{<<"${k}">>,${erlangTerm(x)}}`).join(',')}]`;
  return String(v);
};
const term = erlangTerm;

const isInt = (v: JsonValue, min: number) => typeof v === 'number' && Number.isInteger(v) && v >= min;
const int = (min: number, what: string): Check => (v) => (isInt(v, min) ? undefined : `${term(v)} is not a valid ${what}`);
const binary = (what: string): Check => (v) => (typeof v === 'string' ? undefined : `${term(v)} is not a valid ${what}`);
const oneOf = (values: JsonValue[], text: (v: JsonValue) => string): Check => (v) => (values.includes(v) ? undefined : text(v));
const needsHaMode: Check = (_v, def) =>
  def['ha-mode'] === undefined ? 'ha-mode must be specified to specify ha-params, ha-sync-mode or ha-promote-on-shutdown' : undefined;
const haPromote = (key: string): Check => (v, def) =>
  needsHaMode(v, def) ?? (v === 'always' || v === 'when-synced' ? undefined : `${key} must be "always" or "when-synced", got ${term(v)}`);

const POLICY_KEYS: Record<string, Check> = {
  'alternate-exchange': binary('alternate exchange name'),
  'dead-letter-exchange': binary('dead letter exchange name'),
  'dead-letter-routing-key': binary('dead letter routing key'),
  'dead-letter-strategy': oneOf(['at-most-once', 'at-least-once'], (v) => `${term(v)} is not a valid dead letter strategy`),
  'message-ttl': int(0, 'message TTL'),
  expires: int(1, 'queue expiry'),
  'max-length': int(0, 'maximum length'),
  'max-length-bytes': int(0, 'maximum length in bytes'),
  'max-in-memory-length': int(0, 'maximum memory in bytes'),
  'max-in-memory-bytes': int(0, 'maximum memory in bytes'),
  'delivery-limit': int(0, 'delivery limit'),
  overflow: oneOf(['drop-head', 'reject-publish', 'reject-publish-dlx'], (v) => `${term(v)} is not a valid overflow value`),
  'queue-mode': oneOf(['default', 'lazy'], (v) => `${term(v)} is not a valid queue-mode value`),
  'queue-version': oneOf([1, 2], (v) => `${term(v)} is not a valid queue-version value`),
  'queue-master-locator': oneOf(['min-masters', 'client-local', 'random'], (v) => `${term(v)} invalid queue-master-locator value`),
  'queue-leader-locator': oneOf(['client-local', 'balanced'], (v) => `${term(v)} is not a valid queue leader locator value`),
  'initial-cluster-size': int(1, 'cluster size'),
  'max-age': (v) => (typeof v === 'string' && /^\d+[YMDhms]$/.test(v) ? undefined : `${term(v)} is not a valid max age`),
  'stream-max-segment-size-bytes': int(0, 'segment size'),
  'ha-mode': oneOf(['all', 'exactly', 'nodes'], (v) => `${term(v)} is not a valid ha-mode value`),
  'ha-params': (v, def) => needsHaMode(v, def) ??
    (def['ha-mode'] === 'exactly' && !isInt(v, 1) ? `ha-mode="exactly" takes an integer, ${term(v)} given` : undefined),
  'ha-sync-mode': (v, def) => needsHaMode(v, def) ??
    (v === 'manual' || v === 'automatic' ? undefined : `ha-sync-mode must be "manual" or "automatic", got ${term(v)}`),
  'ha-sync-batch-size': (v, def) => needsHaMode(v, def) ?? (isInt(v, 1) ? undefined : `ha-sync-batch-size takes an integer greater than 0, ${term(v)} given`),
  'ha-promote-on-shutdown': haPromote('ha-promote-on-shutdown'),
  'ha-promote-on-failure': haPromote('ha-promote-on-failure'),
};

/** Operator policies may only cap resources. */
const OPERATOR_POLICY_KEYS = [
  'expires', 'message-ttl', 'max-length', 'max-length-bytes', 'max-in-memory-length', 'max-in-memory-bytes', 'delivery-limit',
];

/** Throws PolicyValidationError with RabbitMQ's reason when a key is unknown or a value invalid. */
export function checkPolicyDefinition(kind: 'policy' | 'operator_policy', def: Record<string, JsonValue>): void {
  const escape = kind === 'policy';
  const keys = Object.keys(def).sort();
  if (keys.length === 0) throw new PolicyValidationError('Validation failed\n\nno policy provided\n', escape);
  const allowed = (k: string) => k in POLICY_KEYS && (kind === 'policy' || OPERATOR_POLICY_KEYS.includes(k));
  const unknown = keys.filter((k) => !allowed(k));
  if (unknown.length > 0) {
    const list = unknown.map((k) => `{<<"${k}">>,${term(def[k])}}`).join(',');
    throw new PolicyValidationError(`Validation failed\n\n[${list}] are not recognised policy settings\n`, escape);
  }
  for (const k of keys) {
    const problem = POLICY_KEYS[k]!(def[k]!, def);
    if (problem !== undefined) throw new PolicyValidationError(`Validation failed\n\n${problem}\n`, escape);
  }
}
