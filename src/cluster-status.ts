/**
 * What a cluster node tells the broker it runs (as leader) about the whole cluster, for the
 * management API (/api/nodes, /api/cluster-name), warrenctl cluster_status and the metrics. The
 * broker, management and metrics see only this interface, never src/cluster/.
 */
export interface ClusterNodeStatus {
  name: string;
  /** leader: runs the broker; follower: mirrors the leader's data and forwards clients; down: a member not registered in etcd now. */
  role: 'leader' | 'follower' | 'down';
  running: boolean;
  /** In the in-sync set (the leader always is): may become leader. */
  inSync: boolean;
  /** Bytes of the leader's data not yet on this node's disk; 0 for the leader, null when unknown. */
  lagBytes: number | null;
  /** Whether its replication connection to the leader is up (the leader: true). */
  connected: boolean;
  /** Where the node listens, as it registered itself. */
  host: string;
  amqpPort: number;
  managementPort: number;
}

export interface ClusterStatusSource {
  /** cluster_formation.etcd.cluster_name, else cluster_name. */
  readonly clusterName: string;
  /** Every member (nodes that ever joined), the leader first, then by name. */
  nodes(): ClusterNodeStatus[];
  /**
   * forget_cluster_node: removes a member that is not running from the member list and the in-sync
   * set (so the majority counts one node fewer). Throws ForgetRefused for a node that is not a
   * member or is running (this leader included), as rabbitmqctl refuses them.
   */
  forget(node: string): Promise<void>;
}

/**
 * forget_cluster_node's refusals, worded as rabbitmqctl 3.10.8 prints them (both exit 69 there): a
 * node that is not a member gets its Elixir term; a running one (the leader included) its sentence,
 * with "Warren" for "RabbitMQ" and without the stop_app advice (a Warren node is stopped whole).
 */
export class ForgetRefused extends Error {
  constructor(readonly kind: 'not_a_cluster_node' | 'running', readonly node: string) {
    super(kind === 'not_a_cluster_node'
      ? "{:not_a_cluster_node, 'The node selected is not in the cluster.'}"
      : `Warren on node ${node} must be stopped before it can be removed`);
  }
}
