/**
 * Policies and operator policies of one vhost (RabbitMQ 3.10): a name, a regex over queue or
 * exchange names, what it applies to, a priority and a definition. For each queue or exchange the
 * matching policy with the highest priority applies alone (two never merge), likewise one operator
 * policy; the effective definition is the policy's with every operator-policy key on top, where a
 * key both define takes the stricter (lower) value. How a definition meets the object's own
 * x-arguments is the object's business (queue-settings.ts, the vhost's alternate exchange).
 */
import { checkPolicyDefinition, erlangTerm, PolicyValidationError, type JsonValue } from './policy-validation.js';

export { PolicyValidationError } from './policy-validation.js';

export type PolicyKind = 'policy' | 'operator_policy';
export type ApplyTo = 'queues' | 'exchanges' | 'all';
export type PolicyDefinitionValue = Record<string, JsonValue>;

export interface Policy {
  readonly vhost: string;
  readonly name: string;
  readonly pattern: string;
  readonly applyTo: ApplyTo;
  readonly definition: PolicyDefinitionValue;
  readonly priority: number;
  readonly regex: RegExp;
}

/** What applies to one queue or exchange; `definition` is {} when nothing matches. */
export interface AppliedPolicy {
  readonly policy: Policy | undefined;
  readonly operatorPolicy: Policy | undefined;
  readonly definition: PolicyDefinitionValue;
}

export const NO_POLICY: AppliedPolicy = { policy: undefined, operatorPolicy: undefined, definition: {} };

/** A policy as the API and definitions files write it (`apply-to`, `priority`...). */
export interface PolicyInput {
  pattern?: unknown;
  definition?: unknown;
  priority?: unknown;
  'apply-to'?: unknown;
}

/**
 * Checks `input` as RabbitMQ does for PUT /api/(operator-)policies and `set_(operator_)policy`;
 * throws PolicyValidationError with RabbitMQ's 400 reason.
 */
export function parsePolicy(kind: PolicyKind, vhost: string, name: string, input: PolicyInput): Policy {
  const missing = (['pattern', 'definition'] as const).filter((k) => input[k] === undefined);
  if (missing.length > 0) throw new PolicyValidationError(`[${missing.map((k) => `{key_missing,${k}}`).join(',')}]`, false);
  const escape = kind === 'policy';
  const fail = (text: string) => new PolicyValidationError(`Validation failed\n\n${text}\n`, escape);
  const pattern = input.pattern;
  if (typeof pattern !== 'string') throw fail(`pattern should be a string`);
  let regex: RegExp;
  try {
    regex = new RegExp(pattern);
  } catch (e) {
    throw fail(`pattern should be regular expression but is invalid: ${(e as Error).message}`);
  }
  const applyTo = input['apply-to'] ?? 'all';
  if (applyTo !== 'queues' && applyTo !== 'exchanges' && applyTo !== 'all') {
    throw fail(`apply-to '${String(applyTo)}' unrecognised; should be 'queues', 'exchanges' or 'all'`);
  }
  const priority = input.priority ?? 0;
  if (typeof priority !== 'number' || !Number.isInteger(priority)) {
    throw new PolicyValidationError(`Validation failed\n\npriority should be a number, actually was ${erlangTerm(priority)}\n`, escape);
  }
  const definition = input.definition;
  if (typeof definition !== 'object' || definition === null || Array.isArray(definition)) {
    throw fail('no policy provided');
  }
  checkPolicyDefinition(kind, definition as PolicyDefinitionValue);
  return { vhost, name, pattern, applyTo, definition: { ...(definition as PolicyDefinitionValue) }, priority, regex };
}

export class VhostPolicies {
  readonly policies = new Map<string, Policy>();
  readonly operatorPolicies = new Map<string, Policy>();

  of(kind: PolicyKind): Map<string, Policy> {
    return kind === 'policy' ? this.policies : this.operatorPolicies;
  }

  get empty(): boolean {
    return this.policies.size === 0 && this.operatorPolicies.size === 0;
  }

  /** The policies that apply to a queue or exchange named `name`. */
  applied(kind: 'queue' | 'exchange', name: string): AppliedPolicy {
    if (this.empty) return NO_POLICY;
    const policy = best(this.policies, kind, name);
    const operatorPolicy = best(this.operatorPolicies, kind, name);
    if (!policy && !operatorPolicy) return NO_POLICY;
    return { policy, operatorPolicy, definition: mergeDefinitions(policy?.definition, operatorPolicy?.definition) };
  }
}

function best(policies: Map<string, Policy>, kind: 'queue' | 'exchange', name: string): Policy | undefined {
  let found: Policy | undefined;
  for (const p of policies.values()) {
    if (p.applyTo !== 'all' && p.applyTo !== (kind === 'queue' ? 'queues' : 'exchanges')) continue;
    if (!p.regex.test(name)) continue;
    if (!found || p.priority > found.priority) found = p;
  }
  return found;
}

/** The policy's definition with the operator policy's keys on top; for a key in both, the lower number wins. */
function mergeDefinitions(policy: PolicyDefinitionValue | undefined, operator: PolicyDefinitionValue | undefined): PolicyDefinitionValue {
  const out: PolicyDefinitionValue = { ...(policy ?? {}) };
  for (const [k, v] of Object.entries(operator ?? {})) {
    const mine = out[k];
    out[k] = typeof mine === 'number' && typeof v === 'number' ? Math.min(mine, v) : v;
  }
  return out;
}

/** A policy as GET /api/policies shows it and definitions files store it. */
export function policyJson(p: Policy): { vhost: string; name: string; pattern: string; 'apply-to': ApplyTo; definition: PolicyDefinitionValue; priority: number } {
  return { vhost: p.vhost, name: p.name, pattern: p.pattern, 'apply-to': p.applyTo, definition: p.definition, priority: p.priority };
}
