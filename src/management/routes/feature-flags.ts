/**
 * /api/feature-flags (administrators): RabbitMQ 3.10.8's stable feature flags, all enabled, because
 * Warren has what each one stands for (quorum and stream queues, user limits, vhost metadata, the
 * unroutable and empty-get counters …). Tools check these before using a feature, and upgrade
 * scripts enable them all: PUT /api/feature-flags/{name}/enable answers 204 for a known flag and
 * RabbitMQ's `unsupported` for any other name.
 */
import { Reply, badRequest } from '../http.js';
import type { Router } from '../router.js';

const FLAGS: Array<{ name: string; desc: string; doc_url?: string; provided_by?: string }> = [
  { name: 'classic_mirrored_queue_version', desc: 'Support setting version for classic mirrored queues' },
  { name: 'drop_unroutable_metric', desc: 'Count unroutable publishes to be dropped in stats', provided_by: 'rabbitmq_management_agent' },
  { name: 'empty_basic_get_metric', desc: 'Count AMQP `basic.get` on empty queues in stats', provided_by: 'rabbitmq_management_agent' },
  { name: 'implicit_default_bindings', desc: 'Default bindings are now implicit, instead of being stored in the database' },
  { name: 'maintenance_mode_status', desc: 'Maintenance mode status' },
  { name: 'quorum_queue', desc: 'Support queues of type `quorum`', doc_url: 'https://www.rabbitmq.com/quorum-queues.html' },
  { name: 'stream_queue', desc: 'Support queues of type `stream`', doc_url: 'https://www.rabbitmq.com/stream.html' },
  { name: 'user_limits', desc: 'Configure connection and channel limits for a user' },
  { name: 'virtual_host_metadata', desc: 'Virtual host metadata (description, tags, etc)' },
];

export function featureFlagRoutes(r: Router): void {
  r.get('/api/feature-flags', 'administrator', () =>
    FLAGS.map((f) => ({ name: f.name, desc: f.desc, doc_url: f.doc_url ?? '', state: 'enabled', stability: 'stable', provided_by: f.provided_by ?? 'rabbit' })));
  r.put('/api/feature-flags/:name/enable', 'administrator', (ctx) => {
    if (!FLAGS.some((f) => f.name === ctx.params['name'])) throw badRequest('unsupported');
    return new Reply(204);
  });
}
