// Who may log in where: guest only over loopback (others are refused like a wrong password), other
// users from anywhere, and a vhost the user has no permissions on.
// Warren-only (users and vhosts are set up through the embedded Broker), but each expectation was
// first observed on RabbitMQ 3.10.8: the permission case with a vhost made through its HTTP API, and
// amqplib, @cloudamqp/amqp-client and a raw client (which must not send channel_max 0, see handshake).
import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { externalUrl, startTestBroker, type TestBroker } from './support/test-broker.js';
import { RawConnection, startOkArgs } from './support/raw-amqp.js';
import { Encoder, PROTOCOL_HEADER, methodFrame } from './support/raw-codec.js';

const remoteAddress = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

/** Header, start-ok as user/pass; resolves after the broker's tune or close. */
async function login(host: string, port: number, user: string, pass: string): Promise<RawConnection> {
  const r = await RawConnection.open(host, port);
  r.write(PROTOCOL_HEADER);
  await r.expectMethod(10, 10);
  r.write(methodFrame(0, 10, 11, startOkArgs(user, pass)));
  return r;
}

describe('login restrictions', { skip: externalUrl ? 'sets up users inside Warren' : false }, () => {
  const raws: RawConnection[] = [];
  after(() => {
    for (const r of raws) r.destroy();
  });

  describe('from a non-loopback address', { skip: remoteAddress ? false : 'no non-loopback IPv4 address' }, () => {
    let b: TestBroker;
    before(async () => {
      b = await startTestBroker({ host: remoteAddress! });
      b.broker!.users.addUser('remote-user', 'secret', []);
      b.broker!.users.setPermission('/', 'remote-user', { configure: '.*', write: '.*', read: '.*' });
    });
    after(async () => {
      await b.close();
    });

    test('guest is refused with 403 ACCESS_REFUSED, exactly like a wrong password', async () => {
      const r = await login(remoteAddress!, b.port, 'guest', 'guest');
      raws.push(r);
      const close = await r.expectConnectionClose();
      assert.deepEqual([close.code, close.text], [403, 'ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.']);
    });

    test('another user logs in', async () => {
      const r = await login(remoteAddress!, b.port, 'remote-user', 'secret');
      raws.push(r);
      await r.expectMethod(10, 30);
    });
  });

  test('connection.open to a vhost the user has no permissions on → 530 NOT_ALLOWED', async () => {
    const b = await startTestBroker();
    try {
      b.broker!.addVhost('no-access');
      const r = await login(b.host, b.port, 'guest', 'guest');
      raws.push(r);
      await r.expectMethod(10, 30);
      r.write(methodFrame(0, 10, 31, new Encoder().u16(2047).u32(131072).u16(0).done()));
      r.write(methodFrame(0, 10, 40, new Encoder().shortstr('no-access').shortstr('').bit(false).done()));
      assert.deepEqual(await r.expectConnectionClose(), {
        code: 530, text: "NOT_ALLOWED - access to vhost 'no-access' refused for user 'guest'", classId: 10, methodId: 40,
      });
    } finally {
      await b.close();
    }
  });
});
