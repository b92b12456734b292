/**
 * Warren's per-node cluster metrics (no rabbitmq_prometheus counterpart: RabbitMQ has no leader node).
 * Each node reports itself: the leader from its broker's /metrics, a follower from the small
 * endpoint it serves on the same port (src/cluster/follower-metrics.ts), so a scrape of every node
 * shows who leads, who may take over, and how far behind each copy is.
 */
import type { Exposition, Family } from './exposition.js';
import { labelSet } from './exposition.js';
import { IDENTITY } from './families.js';

export interface NodeClusterState {
  role: 'leader' | 'follower';
  /** In the in-sync set (may become leader). */
  inSync: boolean;
  /** Bytes of the leader's changes not yet fsynced here; null when unknown (no leader). */
  lagBytes: number | null;
}

export const CLUSTER_NODE = {
  leader: { name: 'warren_cluster_leader', type: 'gauge', help: '1 if this node is the cluster leader (runs the broker), 0 if it is a follower' },
  inSync: { name: 'warren_cluster_in_sync', type: 'gauge', help: '1 if this node is in the in-sync set (may become leader)' },
  lag: { name: 'warren_cluster_replication_lag_bytes', type: 'gauge', help: 'Bytes of the leader\'s data not yet fsynced on this node (0 on the leader)' },
} satisfies Record<string, Family>;

export function writeClusterState(e: Exposition, s: NodeClusterState): void {
  e.single('', CLUSTER_NODE.leader, s.role === 'leader' ? 1 : 0);
  e.single('', CLUSTER_NODE.inSync, s.inSync ? 1 : 0);
  if (s.lagBytes !== null) e.single('', CLUSTER_NODE.lag, s.lagBytes);
}

/** rabbitmq_identity_info: the node, and the cluster's name (cluster_name) as RabbitMQ labels it. */
export function writeIdentity(e: Exposition, node: string, cluster: string, permanentId: string): void {
  e.single('rabbitmq_', IDENTITY.identity, 1, labelSet([
    ['rabbitmq_node', node], ['rabbitmq_cluster', cluster], ['rabbitmq_cluster_permanent_id', permanentId],
  ]));
}
