// The lease a cluster node holds (src/cluster/lease-keeper.ts) against a real etcd: kept alive it
// stays; revoked behind its back it is reported lost at the next keep-alive; with etcd frozen
// (SIGSTOP) it is reported lost before the TTL has run out, so a leader steps down before etcd can
// expire its key and let another node be elected.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EtcdClient } from '../../src/cluster/etcd-client.js';
import { LeaseKeeper } from '../../src/cluster/lease-keeper.js';
import { etcdAvailable, startEtcd, type EtcdServer } from '../support/etcd.js';

function lost(): { promise: Promise<{ why: string; at: number }>; report: (why: string) => void } {
  let report: (why: string) => void = () => {};
  const promise = new Promise<{ why: string; at: number }>((resolve) => (report = (why) => resolve({ why, at: Date.now() })));
  return { promise, report };
}

describe('lease keeper', { skip: etcdAvailable() ? false : 'etcd is not installed (Debian etcd-server)' }, () => {
  let etcd: EtcdServer;
  let client: EtcdClient;
  before(async () => {
    etcd = await startEtcd();
    client = new EtcdClient([etcd.endpoint], { timeoutMs: 500 });
  });
  after(async () => {
    client?.close();
    await etcd?.stop();
  });

  it('keeps the lease past its TTL, and reports it lost once etcd no longer has it', async () => {
    const l = lost();
    const keeper = await LeaseKeeper.grant(client, 2, l.report);
    try {
      await client.put('/lk/reg', 'x', { lease: keeper.id });
      await new Promise((r) => setTimeout(r, 3500));
      assert.equal((await client.get('/lk/reg'))?.value, 'x', 'kept alive beyond the 2 s TTL');
      assert.ok(keeper.alive);
      await client.revokeLease(keeper.id);
      const { why } = await l.promise;
      assert.equal(why, 'lease expired in etcd');
      assert.equal(keeper.alive, false);
    } finally {
      keeper.stop();
    }
  });

  it('with etcd unreachable, reports the lease lost before the TTL ends', async () => {
    const l = lost();
    const keeper = await LeaseKeeper.grant(client, 3, l.report);
    const frozenAt = Date.now();
    process.kill(etcd.pid, 'SIGSTOP');
    try {
      const { why, at } = await l.promise;
      assert.equal(why, 'lease not refreshed in time (etcd unreachable)');
      // The last refresh was sent at most ~1 s before the freeze; the deadline is 3 s after it minus a 750 ms margin.
      assert.ok(at - frozenAt < 3000, `reported ${at - frozenAt} ms after etcd stopped answering`);
      assert.equal(keeper.alive, false);
    } finally {
      process.kill(etcd.pid, 'SIGCONT');
      keeper.stop();
    }
  });
});
