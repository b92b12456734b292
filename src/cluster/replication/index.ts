/**
 * File-level replication of a data dir from the cluster leader to its followers (issue 20).
 *
 *   const leader = await ReplicationLeader.start({ dataDir, host, port, nodeName, majority, log });
 *   const broker = await Broker.start({ ..., dataDir, replication: leader.changes });
 *   leader.on('in-sync', (nodes) => ...);        // followers whose acks count for confirms
 *   leader.majorityChanged();                    // majority() may now be lower: re-check held confirms
 *
 *   const follower = await ReplicationFollower.start({ dataDir, nodeName, leader: { host, port }, log });
 *   follower.on('caught-up', ...); follower.on('lost', ...);
 *   await follower.close();                      // then Broker.start() on the same dir to promote
 *
 * Wire format: frames.ts. Leader: leader.ts, follower-session.ts, change-feed.ts. Follower:
 * follower.ts, applier.ts. What the store reports: src/data-dir-changes.ts.
 */
export { ReplicationLeader, type ReplicationLeaderOptions, type FollowerState } from './leader.js';
export { ReplicationFollower, type ReplicationFollowerOptions } from './follower.js';
export { LOCAL_ONLY, type DataDirChanges } from '../../data-dir-changes.js';
