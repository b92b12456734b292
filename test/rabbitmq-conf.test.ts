// rabbitmq.conf: every key Warren maps, RabbitMQ's value syntax, warnings for RabbitMQ keys Warren does
// not implement, errors naming key and line; and the `warren --config x.conf` start-up with it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { parseRabbitmqConf } from '../src/conf/rabbitmq-conf.js';
import { externalUrl } from './support/test-broker.js';
import { warrenProcesses } from './support/cli-process.js';
import { freePort } from './support/free-port.js';
import { channel, connect } from './support/amqp-client.js';

const conf = (...lines: string[]) => parseRabbitmqConf(lines.join('\n'));

describe('rabbitmq.conf parsing', () => {
  test('every mapped key lands in its Warren option', () => {
    const r = conf(
      '# a RabbitMQ node config',
      'listeners.tcp.default = 127.0.0.1:5673',
      'listeners.tcp.other = ::1:5674',
      'listeners.ssl.default = 5671',
      'ssl_options.cacertfile = /etc/rabbitmq/ca.pem   # trailing comment',
      'ssl_options.certfile = /etc/rabbitmq/server.pem',
      'ssl_options.keyfile = /etc/rabbitmq/server.key',
      'ssl_options.password = s3cret',
      'ssl_options.verify = verify_peer',
      'ssl_options.fail_if_no_peer_cert = true',
      'ssl_options.versions.1 = tlsv1.3',
      'ssl_options.versions.2 = tlsv1.2',
      'ssl_options.ciphers.1 = TLS_AES_256_GCM_SHA384',
      'ssl_handshake_timeout = 7000',
      'auth_mechanisms.1 = EXTERNAL',
      'auth_mechanisms.2 = PLAIN',
      'ssl_cert_login_from = common_name',
      'management.ssl.port = 15671',
      'management.ssl.ip = 127.0.0.1',
      'management.ssl.cacertfile = /m/ca.pem',
      'management.ssl.certfile = /m/cert.pem',
      'management.ssl.keyfile = /m/key.pem',
      'prometheus.tcp.port = 15693',
      'prometheus.tcp.ip = 127.0.0.2',
      'stream.listeners.tcp.default = 127.0.0.1:5553',
      'stream.advertised_host = mq.example.com',
      'stream.advertised_port = 15552',
      'stream.listeners.ssl.default = 5551',
      'stream.advertised_tls_port = 15551',
      'loopback_users.guest = false',
      'loopback_users.local = true',
      'default_user = admin',
      'default_pass = pw',
      'default_vhost = main',
      'default_user_tags.administrator = true',
      'default_user_tags.monitoring = true',
      'vm_memory_high_watermark.relative = 0.6',
      'disk_free_limit.absolute = 2GB',
      'heartbeat = 30',
      'frame_max = 65536',
      'channel_max = 100',
      'max_message_size = 1048576',
      'consumer_timeout = 900000',
      'log.console = true',
      'log.console.level = warning',
      'log.file = warren.log',
      'log.dir = /var/log/warren',
      'log.file.level = debug',
      'log.file.formatter = json',
      'cluster_name = prod',
      'cluster_formation.peer_discovery_backend = etcd',
      'cluster_formation.etcd.endpoints.1 = 10.0.0.1:2379',
      'cluster_formation.etcd.endpoints.2 = 10.0.0.2:2379',
      'cluster_formation.etcd.cluster_name = c1',
      'cluster_formation.etcd.key_prefix = warren',
      'cluster.listener.port = 25672',
      'login_failure_limit = 5',
    );
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.warnings, []);
    const o = r.options;
    assert.equal(o.port, 5673);
    assert.equal(o.host, '127.0.0.1');
    assert.deepEqual(o.extraListeners, [{ host: '::1', port: 5674 }]);
    assert.deepEqual(o.tlsListeners, [{ host: '::', port: 5671 }]);
    assert.deepEqual(o.tls, {
      caFile: '/etc/rabbitmq/ca.pem', certFile: '/etc/rabbitmq/server.pem', keyFile: '/etc/rabbitmq/server.key', password: 's3cret',
      verifyPeer: true, failIfNoPeerCert: true, versions: ['tlsv1.3', 'tlsv1.2'], ciphers: ['TLS_AES_256_GCM_SHA384'], handshakeTimeoutMs: 7000,
    });
    assert.deepEqual(o.authMechanisms, ['EXTERNAL', 'PLAIN']);
    assert.equal(o.sslCertLoginFrom, 'common_name');
    assert.equal(o.managementPort, 15671);
    assert.equal(o.managementHost, '127.0.0.1');
    assert.deepEqual(o.managementTls, { caFile: '/m/ca.pem', certFile: '/m/cert.pem', keyFile: '/m/key.pem', handshakeTimeoutMs: 7000 });
    assert.equal(o.prometheusPort, 15693);
    assert.equal(o.prometheusHost, '127.0.0.2');
    assert.equal(o.streamPort, 5553);
    assert.equal(o.streamHost, '127.0.0.1');
    assert.equal(o.streamAdvertisedHost, 'mq.example.com');
    assert.equal(o.streamAdvertisedPort, 15552);
    assert.equal(o.streamTlsPort, 5551);
    assert.equal(o.streamAdvertisedTlsPort, 15551);
    assert.deepEqual(o.loopbackUsers, ['local']);
    assert.equal(o.defaultUser, 'admin');
    assert.equal(o.defaultPass, 'pw');
    assert.equal(o.defaultVhost, 'main');
    assert.deepEqual(o.defaultUserTags, ['administrator', 'monitoring']);
    assert.equal(o.memoryHighWatermark, 0.6);
    assert.equal(o.diskFreeLimit, 2_000_000_000);
    assert.equal(o.heartbeat, 30);
    assert.equal(o.frameMax, 65536);
    assert.equal(o.channelMax, 100);
    assert.equal(o.maxMessageSize, 1048576);
    assert.equal(o.consumerTimeout, 900000);
    assert.equal(o.logConsole, true);
    assert.equal(o.logConsoleLevel, 'warn');
    assert.equal(o.logLevel, 'warn');
    assert.equal(o.logFile, '/var/log/warren/warren.log');
    assert.equal(o.logFileLevel, 'debug');
    assert.equal(o.logFormatter, 'json');
    assert.equal(o.clusterName, 'prod');
    assert.deepEqual(o.clusterFormation, {
      peerDiscoveryBackend: 'etcd', etcdEndpoints: ['10.0.0.1:2379', '10.0.0.2:2379'], etcdClusterName: 'c1', etcdKeyPrefix: 'warren',
    });
    assert.equal(o.clusterListenerPort, 25672);
    assert.equal(o.loginFailureLimit, 5);
  });

  test("RabbitMQ's information units, relative limits, none and infinity", () => {
    const units: Array<[string, number]> = [['1024', 1024], ['1k', 1024], ['1KiB', 1024], ['1kB', 1000], ['50MB', 50e6], ['50M', 50 * 2 ** 20], ['1GiB', 2 ** 30], ['1GB', 1e9]];
    for (const [text, bytes] of units) assert.equal(conf(`disk_free_limit.absolute = ${text}`).options.diskFreeLimit, bytes, text);
    assert.equal(conf('disk_free_limit.relative = 1.5').options.diskFreeLimit, Math.floor(totalmem() * 1.5));
    assert.equal(conf('vm_memory_high_watermark.absolute = 2GB').options.memoryHighWatermark, 2e9);
    assert.deepEqual(conf('loopback_users = none').options.loopbackUsers, []);
    assert.equal(conf('connection_max = infinity').options.maxConnections, Infinity);
    assert.equal(conf('log.console.level = none').options.logLevel, 'silent');
    assert.equal(conf('log.console = false').options.logLevel, 'silent');
    assert.equal(conf('log.file = false').options.logFile, undefined);
    assert.equal(conf('listeners.tcp.default = 5680').options.host, '::');
    assert.deepEqual(conf('listeners.tcp.default = [::1]:5680').options, { port: 5680, host: '::1' });
    assert.deepEqual(conf('cluster_formation.etcd.host = e1', 'cluster_formation.etcd.port = 2380').options.clusterFormation, { etcdEndpoints: ['e1:2380'] });
  });

  test('RabbitMQ keys Warren does not implement are warnings naming the key and line', () => {
    const r = conf('heartbeat = 10', 'mqtt.listeners.tcp.default = 1883', 'tcp_listen_options.backlog = 128', 'log.syslog = true', 'collect_statistics_interval = 5000');
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.warnings.map((w) => w.line), [2, 3, 4, 5]);
    assert.match(r.warnings[0]!.message, /mqtt\.listeners\.tcp\.default .*not implement/);
    assert.equal(r.options.heartbeat, 10);
  });

  test('unknown keys, bad values and syntax errors are errors naming key and line, as RabbitMQ words them', () => {
    const r = conf(
      'heartbeat = abc',
      'foo.bar = 1',
      'ssl_options.verify = verify_maybe',
      'disk_free_limit.absolute = 2GBx',
      'listeners.tcp.default = 127.0.0.1:99999',
      'just words',
      'ssl_options.versions.1 = tlsv1.1',
      'log.console.level = loud',
      'loopback_users.guest = maybe',
      'auth_mechanisms.1 = KERBEROS',
    );
    const byLine = new Map(r.errors.map((e) => [e.line, e.message]));
    assert.equal(byLine.get(1), 'Error transforming datatype for: heartbeat: "abc" cannot be converted to a(n) integer');
    assert.equal(byLine.get(2), 'Conf file attempted to set unknown variable: foo.bar');
    assert.match(byLine.get(3)!, /ssl_options\.verify.*verify_peer, verify_none/);
    assert.match(byLine.get(4)!, /disk_free_limit\.absolute.*"2GBx"/);
    assert.match(byLine.get(5)!, /listeners\.tcp\.default.*99999/);
    assert.match(byLine.get(6)!, /Syntax error/);
    assert.match(byLine.get(7)!, /ssl_options\.versions\.1.*tlsv1\.1/);
    assert.match(byLine.get(8)!, /log\.console\.level.*"loud"/);
    assert.match(byLine.get(9)!, /loopback_users\.guest.*"maybe"/);
    assert.match(byLine.get(10)!, /auth_mechanisms\.1.*KERBEROS/);
    assert.equal(r.errors.length, 10);
  });

  test('cluster keys: both spellings of the etcd backend, endpoints checked, advertised host', () => {
    for (const backend of ['etcd', 'rabbit_peer_discovery_etcd']) {
      const r = conf(`cluster_formation.peer_discovery_backend = ${backend}`, 'cluster_formation.etcd.endpoints.1 = http://e1:2379', 'cluster.advertised_host = node1.example.com');
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.options.clusterFormation, { peerDiscoveryBackend: 'etcd', etcdEndpoints: ['e1:2379'] });
      assert.equal(r.options.clusterAdvertisedHost, 'node1.example.com');
    }
    assert.equal(conf('cluster_formation.peer_discovery_backend = rabbit_peer_discovery_classic_config').options.clusterFormation?.peerDiscoveryBackend, 'classic_config');
    const r = conf(
      'cluster_formation.peer_discovery_backend = etcd',
      'cluster_formation.etcd.endpoints.1 = e1',
      'cluster_formation.etcd.endpoints.2 = e2:99999',
      'cluster.listener.port = many',
      'cluster.advertised_host = a host',
    );
    const byLine = new Map(r.errors.map((e) => [e.line, e.message]));
    assert.equal(byLine.get(1), 'cluster_formation.peer_discovery_backend = etcd needs cluster_formation.etcd.endpoints.1 = host:port');
    assert.equal(byLine.get(2), 'Error transforming datatype for: cluster_formation.etcd.endpoints.1: "e1" cannot be converted to a(n) ip:port or port');
    assert.match(byLine.get(3)!, /cluster_formation\.etcd\.endpoints\.2: 99999 is not a valid port/);
    assert.match(byLine.get(4)!, /cluster\.listener\.port: "many" cannot be converted to a\(n\) integer/);
    assert.match(byLine.get(5)!, /cluster\.advertised_host: "a host" cannot be converted/);
    assert.equal(r.errors.length, 5);
    assert.match(conf('cluster_formation.peer_discovery_backend = rabbit_peer_discovery_k8s').errors[0]!.message,
      /peer_discovery_backend: rabbit_peer_discovery_k8s is not implemented by Warren \(use etcd\)/);
    assert.match(conf('cluster_formation.peer_discovery_backend = zookeeper').errors[0]!.message, /"zookeeper" is not a valid value, acceptable values are: etcd/);
  });

  test('a TLS listener without certificate or key is an error', () => {
    const r = conf('listeners.ssl.default = 5671', 'ssl_options.cacertfile = /ca.pem');
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0]!.message, /ssl_options\.certfile and ssl_options\.keyfile/);
    assert.equal(r.errors[0]!.line, 1);
  });
});

describe('warren --config rabbitmq.conf', { skip: externalUrl ? 'starts Warren processes' : false, concurrency: true }, () => {
  const { start, tmp } = warrenProcesses('warren-conf-test-');
  const writeConf = (...lines: string[]) => {
    const f = join(tmp(), 'rabbitmq.conf');
    writeFileSync(f, lines.join('\n') + '\n');
    return f;
  };

  test('starts with the listener and default user from the file, and warns about unimplemented keys', async () => {
    const port = await freePort();
    const f = writeConf(`listeners.tcp.default = 127.0.0.1:${port}`, 'management.tcp.port = 0', 'prometheus.tcp.port = 0', 'prometheus.tcp.port = 0', 'default_user = conf-user', 'default_pass = conf-pass',
      'default_vhost = conf-vhost', 'loopback_users = none', 'mqtt.listeners.tcp.default = 1883', 'heartbeat = 7');
    const p = start(['--config', f, '--data-dir', tmp()]);
    assert.equal((await p.listening()).port, port);
    const warning = p.lines.find((l) => l.level === 'warn' && /mqtt\.listeners\.tcp\.default/.test(String(l['detail'])));
    assert.ok(warning, 'no warning naming mqtt.listeners.tcp.default');
    assert.match(String(warning['detail']), /rabbitmq\.conf:9:/);
    const conn = await connect(`amqp://conf-user:conf-pass@127.0.0.1:${port}/conf-vhost`);
    await (await channel(conn)).checkExchange('amq.direct');
    await conn.close();
  });

  test('WARREN_CONFIG names the file too, and flags win over it', async () => {
    const [confPort, flagPort] = await Promise.all([freePort(), freePort()]);
    const f = writeConf(`listeners.tcp.default = 127.0.0.1:${confPort}`, 'management.tcp.port = 0', 'prometheus.tcp.port = 0', 'prometheus.tcp.port = 0');
    const byEnv = start(['--data-dir', tmp()], { WARREN_CONFIG: f });
    const flagWins = start(['--config', f, '--port', String(flagPort), '--data-dir', tmp()]);
    assert.equal((await byEnv.listening()).port, confPort);
    assert.equal((await flagWins.listening()).port, flagPort);
  });

  test('errors exit 2 naming key and line, and nothing is started (no data dir created)', async () => {
    const dataDir = join(tmp(), 'never');
    const f = writeConf('listeners.tcp.default = 127.0.0.1:0', 'heartbeat = soon', 'no.such.key = 1');
    const p = start(['--config', f, '--data-dir', dataDir]);
    assert.ok(await p.waitExit(5000));
    assert.equal(p.exitCode, 2);
    const err = p.stderr.join('');
    assert.match(err, /rabbitmq\.conf:2: .*heartbeat.*"soon"/);
    assert.match(err, /rabbitmq\.conf:3: Conf file attempted to set unknown variable: no\.such\.key/);
    assert.equal(p.lines.find((l) => l.msg === 'listening'), undefined);
    assert.equal(existsSync(dataDir), false);
  });

  test('a missing config file is a clear error with exit code 2', async () => {
    const p = start(['--config', join(tmp(), 'absent.conf')]);
    assert.ok(await p.waitExit(5000));
    assert.equal(p.exitCode, 2);
    assert.match(p.stderr.join(''), /absent\.conf: no such file/);
  });

  test('a rabbitmq.conf given a .json-less name is still read as JSON, with a hint', async () => {
    const f = join(tmp(), 'rabbitmq.config.txt');
    writeFileSync(f, 'listeners.tcp.default = 5672\n');
    const p = start(['--config', f]);
    assert.ok(await p.waitExit(5000));
    assert.equal(p.exitCode, 2);
    assert.match(p.stderr.join(''), /must be named \*\.conf/);
  });
});
