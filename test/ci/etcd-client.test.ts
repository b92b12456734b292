// The etcd client against a real etcd (Debian's etcd-server) on free loopback ports.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EtcdClient, EtcdError, EtcdUnavailableError, type WatchEvent } from '../../src/cluster/etcd-client.js';
import { eventually } from '../support/eventually.js';
import { etcdAvailable, startEtcd, type EtcdServer } from '../support/etcd.js';
import { freePort } from '../support/free-port.js';

describe('etcd client', { skip: etcdAvailable() ? false : 'etcd is not installed (Debian etcd-server)' }, () => {
  let etcd: EtcdServer;
  let client: EtcdClient;
  before(async () => {
    etcd = await startEtcd();
    client = new EtcdClient([etcd.endpoint]);
  });
  after(async () => {
    client?.close();
    await etcd?.stop();
  });

  it('puts, reads, lists a prefix and deletes', async () => {
    await client.put('/t1/a', 'one');
    await client.put('/t1/b', 'twö');
    await client.put('/t10', 'outside the prefix /t1/');
    assert.equal((await client.get('/t1/a'))?.value, 'one');
    assert.equal(await client.get('/t1/none'), undefined);
    const { kvs, revision } = await client.getPrefix('/t1/');
    assert.deepEqual(kvs.map((k) => [k.key, k.value]), [['/t1/a', 'one'], ['/t1/b', 'twö']]);
    assert.ok(revision >= kvs[1]!.modRevision);
    assert.equal(await client.delete('/t1/a'), 1);
    assert.equal(await client.delete('/t1/a'), 0);
    assert.equal(await client.deletePrefix('/t1/'), 1);
    assert.equal((await client.get('/t10'))?.value, 'outside the prefix /t1/');
  });

  it('creates a key only if absent, and deletes it only if it still holds a value', async () => {
    assert.deepEqual(await client.createIfAbsent('/t2/leader', 'n1'), { created: true });
    const second = await client.createIfAbsent('/t2/leader', 'n2');
    assert.equal(second.created, false);
    assert.equal(!second.created && second.current?.value, 'n1');
    assert.equal(await client.deleteIfValue('/t2/leader', 'n2'), false);
    assert.equal((await client.get('/t2/leader'))?.value, 'n1');
    assert.equal(await client.deleteIfValue('/t2/leader', 'n1'), true);
    assert.equal(await client.get('/t2/leader'), undefined);
  });

  it('attaches keys to a lease: kept alive they stay, revoked or expired they go', async () => {
    const lease = await client.grantLease(2);
    await client.put('/t3/reg', 'x', { lease });
    assert.equal((await client.get('/t3/reg'))?.lease, lease);
    assert.equal(await client.keepAlive(lease), 2);
    await client.revokeLease(lease);
    assert.equal(await client.get('/t3/reg'), undefined);
    assert.equal(await client.keepAlive(lease), 0, 'a revoked lease cannot be kept alive');
    await client.revokeLease(lease); // twice is not an error

    const short = await client.grantLease(2);
    assert.deepEqual(await client.createIfAbsent('/t3/leader', 'n1', { lease: short }), { created: true });
    await eventually(async () => assert.equal(await client.get('/t3/leader'), undefined), 15_000);
  });

  it('reports etcd errors with their code and message', async () => {
    await assert.rejects(client.put('/t4/k', 'v', { lease: '12345' }), (e: unknown) => {
      assert.ok(e instanceof EtcdError);
      assert.equal(e.code, 5);
      assert.match(e.message, /requested lease not found/);
      assert.match(e.message, new RegExp(etcd.endpoint));
      return true;
    });
  });

  it('watches a prefix: puts and deletes in order', async () => {
    const events: WatchEvent[] = [];
    const watch = client.watchPrefix('/t5/', (e) => events.push(e));
    try {
      // The watch is created asynchronously: keep writing until the first event shows up.
      await eventually(async () => {
        await client.put('/t5/ping', String(Date.now()));
        assert.ok(events.length > 0);
      }, 15_000);
      await client.put('/t5/a', '1');
      await client.delete('/t5/a');
      await client.put('/t6/other', 'not watched');
      await eventually(() => assert.ok(events.some((e) => e.type === 'delete' && e.kv.key === '/t5/a')), 15_000);
      const forA = events.filter((e) => e.kv.key === '/t5/a').map((e) => [e.type, e.kv.value]);
      assert.deepEqual(forA, [['put', '1'], ['delete', '']]);
      assert.ok(events.every((e) => e.kv.key.startsWith('/t5/')));
    } finally {
      watch.close();
    }
  });

  it('fails over to the next endpoint and names every endpoint when none answers', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const failover = new EtcdClient([dead, etcd.endpoint]);
    try {
      await failover.put('/t7/k', 'v');
      assert.equal(failover.endpoint, etcd.endpoint, 'the endpoint that answered is used next');
      assert.equal((await failover.get('/t7/k'))?.value, 'v');
    } finally {
      failover.close();
    }
    const dead2 = `127.0.0.1:${await freePort()}`;
    const none = new EtcdClient([dead, dead2], { timeoutMs: 500 });
    try {
      await assert.rejects(none.get('/t7/k'), (e: unknown) => {
        assert.ok(e instanceof EtcdUnavailableError);
        assert.match(e.message, new RegExp(`${dead}.*${dead2}`));
        return true;
      });
    } finally {
      none.close();
    }
    assert.throws(() => new EtcdClient(['nohostport']), /bad etcd endpoint "nohostport": expected host:port/);
  });
});
