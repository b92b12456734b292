/**
 * forget_cluster_node on the leader: a member that is not running leaves the member list (the
 * majority then counts one node fewer) and the in-sync set (it may no longer be elected), in one
 * etcd transaction that holds only while this node still leads and the member is still not
 * registered, so a node starting at that moment is not forgotten half-way.
 *
 * A forgotten node that is started again registers as a new member and, like any follower,
 * replaces its data dir with the leader's copy before it can count for confirms.
 */
import { ForgetRefused } from '../cluster-status.js';
import { parseNodeList, type ClusterKeys } from './cluster-keys.js';
import type { EtcdClient } from './etcd-client.js';

export interface Forgotten {
  /** The in-sync set as etcd holds it afterwards. */
  inSync: string[];
}

export async function forgetMember(etcd: EtcdClient, keys: ClusterKeys, leader: { node: string; value: string }, node: string): Promise<Forgotten> {
  // Retried when the in-sync set changed between the read and the transaction (the leader rewrites it).
  for (let attempt = 0; attempt < 5; attempt++) {
    const [member, registration, inSyncKv] = await Promise.all([etcd.get(keys.member(node)), etcd.get(keys.node(node)), etcd.get(keys.inSync)]);
    if (!member) throw new ForgetRefused('not_a_cluster_node', node);
    if (registration || node === leader.node) throw new ForgetRefused('running', node);
    const inSync = parseNodeList(inSyncKv?.value) ?? [];
    const remaining = inSync.filter((n) => n !== node);
    const done = await etcd.writeIf(
      [
        { key: keys.leader, value: leader.value },
        { key: keys.node(node), absent: true },
        inSyncKv ? { key: keys.inSync, value: inSyncKv.value } : { key: keys.inSync, absent: true },
      ],
      { remove: [keys.member(node)], put: remaining.length !== inSync.length ? [{ key: keys.inSync, value: JSON.stringify(remaining) }] : [] },
    );
    if (done) return { inSync: remaining };
    // Not leading any more, or the node registered meanwhile: say so as the next read finds it.
    const leaderKv = await etcd.get(keys.leader);
    if (leaderKv?.value !== leader.value) throw new Error('this node is no longer the leader; run the command again');
  }
  throw new Error('the cluster state kept changing; run the command again');
}
