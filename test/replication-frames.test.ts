/**
 * The replication wire format (src/cluster/replication/frames.ts): every frame round-trips, split at
 * any byte; garbage is refused with a ReplicationProtocolError and nothing else; unsafe paths never
 * decode. Then over real sockets, with hand-made followers speaking the format: a leader fed garbage
 * drops that connection and keeps serving a real follower; a follower that stops reading is dropped
 * at the lag bound; one that stops acking holds confirms until it is dropped.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import amqp from 'amqplib';
import {
  FrameReader,
  FrameType,
  MAX_FRAME,
  ReplicationProtocolError,
  decodeFrame,
  encodeHello,
  encodeManifest,
  encodeManifestEnd,
  encodeOp,
  encodePosition,
  encodeWrite,
  isSafeRelativePath,
  pathBytes,
  type Frame,
} from '../src/cluster/replication/frames.js';
import { ReplicationLeader } from '../src/cluster/replication/index.js';
import { eventually } from './support/eventually.js';
import { quiet, removeDirs, startFollower, tempDir, treeDigest, withReplicatedNodes } from './support/replication-nodes.js';

function samples(): Buffer[] {
  const data = [Buffer.from('hello '), Buffer.from('world')];
  return [
    encodeWrite(123, 'vhosts/a/queues/b/0000000000000001.seg', pathBytes('vhosts/a/queues/b/0000000000000001.seg'), 4096, data, 2, 8),
    encodeOp({ type: FrameType.Truncate, pos: 7, path: 'definitions.json.tmp', size: 0 }),
    encodeOp({ type: FrameType.Rename, pos: 8, path: 'definitions.json.tmp', to: 'definitions.json' }),
    encodeOp({ type: FrameType.Remove, pos: 9, path: 'vhosts/x' }),
    encodeOp({ type: FrameType.Mkdir, pos: 10, path: 'streams/é/ü' }),
    encodePosition(FrameType.SnapshotEnd, 11),
    encodePosition(FrameType.Ping, 12),
    encodePosition(FrameType.Ack, 13),
    encodeHello('warren-1'),
    encodeManifest([
      { path: 'definitions.json', size: 10, digest: Buffer.alloc(16, 1) },
      { path: 'vhosts', size: -1, digest: Buffer.alloc(16) },
    ]),
    encodeManifestEnd(),
  ];
}

test('frames round-trip, whole or split at every byte', () => {
  const frames = samples();
  const wire = Buffer.concat(frames);
  const whole: Frame[] = [];
  new FrameReader().push(wire, (f) => whole.push(f));
  assert.equal(whole.length, frames.length);
  const w = whole[0]!;
  assert.ok(w.type === FrameType.Write);
  assert.equal(w.pos, 123);
  assert.equal(w.offset, 4096);
  assert.equal(w.data.toString(), 'llo worl');
  assert.deepEqual(whole[2], { type: FrameType.Rename, pos: 8, path: 'definitions.json.tmp', to: 'definitions.json' });
  assert.deepEqual(whole[4], { type: FrameType.Mkdir, pos: 10, path: 'streams/é/ü' });
  assert.deepEqual(whole[8], { type: FrameType.Hello, node: 'warren-1', protocol: 1 });
  const m = whole[9]!;
  assert.ok(m.type === FrameType.Manifest);
  assert.deepEqual(m.entries.map((e) => [e.path, e.size, e.digest[0]]), [['definitions.json', 10, 1], ['vhosts', -1, 0]]);
  // A frame is valid only during the callback (a split one lives in the reader's reused buffer).
  for (let cut = 1; cut < wire.length; cut += 7) {
    const got: string[] = [];
    const r = new FrameReader();
    r.push(wire.subarray(0, cut), (f) => got.push(JSON.stringify(f)));
    r.push(wire.subarray(cut), (f) => got.push(JSON.stringify(f)));
    assert.equal(got.length, frames.length, `split at ${cut}`);
    assert.deepEqual(got, whole.map((f) => JSON.stringify(f)));
  }
  // Split into many small pieces, the reassembly buffer reused from frame to frame.
  for (const step of [1, 3, 64]) {
    const got: string[] = [];
    const r = new FrameReader();
    for (let at = 0; at < wire.length; at += step) r.push(wire.subarray(at, at + step), (f) => got.push(JSON.stringify(f)));
    assert.deepEqual(got, whole.map((f) => JSON.stringify(f)), `pieces of ${step}`);
  }
});

test('garbage is refused with a protocol error, never anything else', () => {
  let refused = 0;
  for (let i = 0; i < 3000; i++) {
    const r = new FrameReader();
    // Random bytes, and random mutations of valid frames (those reach the payload checks).
    let bytes: Buffer;
    if (i % 2 === 0) bytes = randomBytes(1 + (i % 200));
    else {
      const frames = samples();
      bytes = Buffer.from(frames[i % frames.length]!);
      for (let k = 0; k < 3; k++) bytes[5 + ((i * 31 + k * 17) % Math.max(1, bytes.length - 5))] = (i * 7 + k) & 0xff;
    }
    try {
      r.push(bytes, () => {});
    } catch (err) {
      assert.ok(err instanceof ReplicationProtocolError, `unexpected ${String(err)}`);
      refused++;
    }
  }
  assert.ok(refused > 1000, `most garbage is refused (${refused})`);
  assert.throws(() => new FrameReader().push(Buffer.from([0xff, 0xff, 0xff, 0xff, 1]), () => {}), ReplicationProtocolError);
  const oversized = Buffer.alloc(5);
  oversized.writeUInt32BE(MAX_FRAME, 0);
  assert.throws(() => new FrameReader().push(oversized, () => {}), ReplicationProtocolError);
});

test('paths that would leave the data dir or touch node-local files never decode', () => {
  for (const bad of ['', '/etc/passwd', '../x', 'a/../../x', 'a//b', './a', 'a/.', 'warren.lock', 'transient/x', 'cluster/state', 'a\0b', 'a\\b']) {
    assert.equal(isSafeRelativePath(bad), false, bad);
    const frame = encodeOp({ type: FrameType.Remove, pos: 1, path: bad });
    assert.throws(() => decodeFrame(frame.subarray(4)), ReplicationProtocolError, bad);
  }
  for (const good of ['definitions.json', 'vhosts/a/queues/b/delivered', 'streams/x/y/00000000000000000000.segment']) {
    assert.equal(isSafeRelativePath(good), true, good);
  }
});

test('a leader fed garbage drops that connection and keeps serving followers', async () => {
  const [a, b] = [tempDir('a'), tempDir('b')];
  fs.writeFileSync(path.join(a, 'definitions.json'), '{"users": []}\n');
  const leader = await ReplicationLeader.start({ dataDir: a, host: '127.0.0.1', port: 0, nodeName: 'l', majority: () => 2, log: quiet });
  try {
    for (const garbage of [Buffer.concat([Buffer.from([0x40, 0, 0, 0]), randomBytes(60)]), Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.concat([encodeHello('x'), encodeHello('x')])]) {
      const s = net.connect(leader.port, '127.0.0.1');
      // The leader may close with unread bytes pending, which resets the connection: that is an
      // expected end here, not a failure of the test process.
      s.on('error', () => {});
      await new Promise((r) => s.once('connect', r));
      s.write(garbage);
      await new Promise((r) => s.once('close', r));
    }
    const f = await startFollower(b, 'b', leader.port);
    try {
      await eventually(() => assert.ok(f.caughtUp), 15_000, 20);
      assert.deepEqual(leader.inSync(), ['b']);
      assert.deepEqual(treeDigest(b), treeDigest(a));
    } finally {
      await f.close();
    }
  } finally {
    await leader.close();
    removeDirs(a, b);
  }
});

/** A hand-made follower: connects, says HELLO with an empty manifest, and hands every frame it gets to `onFrame`. */
async function rawFollower(port: number, name: string, onFrame: (f: Frame, socket: net.Socket) => void): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  socket.write(Buffer.concat([encodeHello(name), encodeManifestEnd()]));
  const reader = new FrameReader();
  socket.on('data', (chunk: Buffer) => reader.push(chunk, (f) => onFrame(f, socket)));
  return socket;
}

test('a follower that stops reading is dropped once its unsent changes pass the bound; confirms go on through the others', () =>
  withReplicatedNodes(['b'], async ({ node }) => {
    // A "follower" that takes its catch-up, then reads nothing more and never acks.
    let caughtUp!: () => void;
    const snapshotEnd = new Promise<void>((resolve) => (caughtUp = resolve));
    const slow = await rawFollower(node.leader.port, 'slow', (f, socket) => {
      if (f.type !== FrameType.SnapshotEnd) return;
      socket.pause();
      caughtUp();
    });
    await snapshotEnd;
    const closed = new Promise((r) => slow.once('close', r));
    const conn = await amqp.connect(node.url);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('lag-q', { durable: true });
    const body = Buffer.alloc(64 * 1024, 1);
    let confirmed = 0;
    while (node.leader.followers().find((f) => f.node === 'slow')?.connected !== false) {
      await Promise.all(Array.from({ length: 16 }, () => new Promise<void>((resolve, reject) =>
        ch.sendToQueue('lag-q', body, { persistent: true }, (err) => (err ? reject(err) : resolve())))));
      confirmed += 16;
      assert.ok(confirmed < 2000, 'the slow follower was never dropped');
    }
    // The leader closed it: what it had buffered ends with the close (read it to see the end).
    slow.resume();
    await closed;
    assert.deepEqual(node.leader.inSync(), ['b']);
    await conn.close();
  }, { maxLagBytes: 1024 * 1024 }));

test('every in-sync follower must ack before a confirm: one that goes silent holds confirms until it is dropped', () =>
  withReplicatedNodes(['b'], async ({ node }) => {
    // Declared first: a declare-ok waits for every in-sync follower too (replication-gates.test.ts).
    const conn = await amqp.connect(node.url);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('mute-q', { durable: true });
    // A "follower" that catches up, acks once (so it is in sync), then never acks again.
    const mute = await rawFollower(node.leader.port, 'mute', (f, socket) => {
      if (f.type === FrameType.SnapshotEnd) socket.write(encodePosition(FrameType.Ack, f.pos));
    });
    await eventually(() => assert.deepEqual(node.leader.inSync(), ['b', 'mute']), 15_000, 20);
    let confirmedAt = 0;
    const sent = Date.now();
    const confirm = new Promise<void>((resolve, reject) =>
      ch.sendToQueue('mute-q', Buffer.from('m'), { persistent: true }, (err) => (err ? reject(err) : ((confirmedAt = Date.now()), resolve()))),
    );
    // b acks at once, yet the confirm waits for the mute follower, which the leader drops after 10 s of silence.
    await confirm;
    assert.ok(confirmedAt - sent >= 5000, `confirmed after ${confirmedAt - sent} ms, before the silent follower was dropped`);
    assert.deepEqual(node.leader.inSync(), ['b']);
    mute.destroy();
    await conn.close();
  }));
