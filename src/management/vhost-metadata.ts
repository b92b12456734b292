/**
 * A vhost's description and tags (RabbitMQ's vhost metadata). The core VirtualHost has no use for
 * them, so the management layer keeps them beside it, keyed by the vhost object so they go away
 * with it.
 */
import type { VirtualHost } from '../broker/vhost.js';

export interface VhostMetadata {
  description: string;
  tags: string[];
}

const metadata = new WeakMap<VirtualHost, VhostMetadata>();

export function getVhostMetadata(v: VirtualHost): VhostMetadata {
  return metadata.get(v) ?? { description: v.name === '/' ? 'Default virtual host' : '', tags: [] };
}

export function setVhostMetadata(v: VirtualHost, m: VhostMetadata): void {
  metadata.set(v, { description: m.description, tags: [...m.tags] });
}
