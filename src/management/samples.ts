/**
 * Adds chart samples to an answer when the request asks for them, as RabbitMQ does:
 * `lengths_age` / `lengths_incr` (seconds) for message counts, `msg_rates_age` / `msg_rates_incr`
 * for `message_stats`. Without those parameters the answer is left as it was.
 */
import { sampleDetails, type SeriesHistory } from './history.js';

type Json = Record<string, unknown>;

const MAX_AGE_S = 86_400;

function window(query: URLSearchParams, prefix: 'lengths' | 'msg_rates'): { ageMs: number; incrMs: number } | undefined {
  const age = Number(query.get(`${prefix}_age`));
  if (!query.has(`${prefix}_age`) || !(age > 0)) return undefined;
  const incr = Number(query.get(`${prefix}_incr`) ?? 5);
  return { ageMs: Math.min(age, MAX_AGE_S) * 1000, incrMs: Math.max(incr > 0 ? incr : 5, 5) * 1000 };
}

/** Every `x_details` in `target` gets the samples of field `x`. */
function addTo(target: Json | undefined, history: SeriesHistory, w: { ageMs: number; incrMs: number }, now: number): void {
  if (!target) return;
  for (const key of Object.keys(target)) {
    if (!key.endsWith('_details')) continue;
    const field = key.slice(0, -'_details'.length);
    const details = target[key] as Json;
    Object.assign(details, sampleDetails(history.samples(field, now, w.ageMs, w.incrMs)));
  }
}

/** `lengthsIn`: where the message counts are (`queue_totals` in the overview, the object itself for a queue). */
export function addSamples(json: Json, history: SeriesHistory | undefined, query: URLSearchParams, lengthsIn: Json | undefined, now = Date.now()): Json {
  if (!history) return json;
  const lengths = window(query, 'lengths');
  const rates = window(query, 'msg_rates');
  if (lengths && lengthsIn) {
    const only: Json = {};
    for (const k of ['messages_details', 'messages_ready_details', 'messages_unacknowledged_details']) {
      if (lengthsIn[k]) only[k] = lengthsIn[k];
    }
    addTo(only, history, lengths, now);
  }
  if (rates) addTo(json['message_stats'] as Json | undefined, history, rates, now);
  return json;
}

export function wantsSamples(query: URLSearchParams): boolean {
  return query.has('lengths_age') || query.has('msg_rates_age');
}
