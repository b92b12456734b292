/**
 * What a Warren cluster keeps in etcd, under `/<key_prefix>/warren/<cluster_name>/`:
 *
 *   nodes/<node>    a live node's registration (JSON NodeRegistration), under the node's lease:
 *                   it disappears within the lease TTL of the node dying or losing etcd
 *   members/<node>  every node that ever joined (no lease); majority = floor(members / 2) + 1
 *   leader          the leader's registration, created under its lease by a transaction that
 *                   succeeds only if the key is absent: at most one leader at a time
 *   in-sync         JSON array of node names written by the leader: itself and the followers whose
 *                   copy is complete. Only these may campaign when the leader key is gone.
 */

/** Where a node listens, as others (and proxies) reach it. Ports 0 mean "not served". */
export interface NodeRegistration {
  node: string;
  host: string;
  amqp: number;
  management: number;
  stream: number;
  /** Replication (cluster.listener.port). */
  cluster: number;
  /** Extra AMQP and AMQPS listeners, in config order. */
  amqpExtra: number[];
  amqps: number[];
  role: 'leader' | 'follower';
  pid: number;
}

export class ClusterKeys {
  readonly root: string;

  constructor(keyPrefix: string, clusterName: string) {
    this.root = `/${keyPrefix.replace(/^\/+|\/+$/g, '')}/warren/${clusterName}/`;
  }

  get nodes(): string {
    return `${this.root}nodes/`;
  }

  node(name: string): string {
    return `${this.nodes}${name}`;
  }

  get members(): string {
    return `${this.root}members/`;
  }

  member(name: string): string {
    return `${this.members}${name}`;
  }

  get leader(): string {
    return `${this.root}leader`;
  }

  get inSync(): string {
    return `${this.root}in-sync`;
  }
}

/** A registration read back from etcd, or undefined when it is not one of ours (hand-edited, another version). */
export function parseRegistration(value: string): NodeRegistration | undefined {
  try {
    const r = JSON.parse(value) as Partial<NodeRegistration>;
    if (typeof r.node !== 'string' || typeof r.host !== 'string' || typeof r.amqp !== 'number' || typeof r.cluster !== 'number') return undefined;
    return {
      node: r.node, host: r.host, amqp: r.amqp, management: r.management ?? 0, stream: r.stream ?? 0, cluster: r.cluster,
      amqpExtra: r.amqpExtra ?? [], amqps: r.amqps ?? [], role: r.role === 'leader' ? 'leader' : 'follower', pid: r.pid ?? 0,
    };
  } catch {
    return undefined;
  }
}

export function parseNodeList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  try {
    const list = JSON.parse(value) as unknown;
    return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : undefined;
  } catch {
    return undefined;
  }
}
