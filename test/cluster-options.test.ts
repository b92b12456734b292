// From rabbitmq.conf to a cluster node's settings (src/cluster/cluster-options.ts): which config
// asks for a cluster, the names used in etcd, RabbitMQ's defaults for the key prefix and the
// node-to-node port, and the advertised host.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { clusterNodeOptions, wantsCluster } from '../src/cluster/cluster-options.js';
import { parseRabbitmqConf } from '../src/conf/rabbitmq-conf.js';

const conf = (...lines: string[]) => {
  const r = parseRabbitmqConf(lines.join('\n'));
  assert.deepEqual(r.errors, []);
  return r.options;
};
const log = () => {};

describe('cluster options', () => {
  it('only etcd peer discovery makes a cluster node', () => {
    assert.equal(wantsCluster(conf('listeners.tcp.default = 5680')), false);
    assert.equal(wantsCluster(conf('cluster_formation.peer_discovery_backend = classic_config')), false);
    assert.equal(wantsCluster(conf('cluster_formation.peer_discovery_backend = rabbit_peer_discovery_etcd', 'cluster_formation.etcd.endpoints.1 = e1:2379')), true);
  });

  it("defaults: key prefix rabbitmq, etcd cluster name from cluster_name, replication port AMQP + 20000, host name when listening on every address", () => {
    const o = clusterNodeOptions(conf('cluster_name = orders', 'cluster_formation.peer_discovery_backend = etcd', 'cluster_formation.etcd.endpoints.1 = e1:2379', 'cluster_formation.etcd.endpoints.2 = e2:2379'), 'warren-1', log);
    assert.equal(o.keyPrefix, 'rabbitmq');
    assert.equal(o.clusterName, 'orders');
    assert.deepEqual(o.etcdEndpoints, ['e1:2379', 'e2:2379']);
    assert.equal(o.clusterPort, 25672);
    assert.equal(o.advertisedHost, hostname());
    assert.equal(o.nodeName, 'warren-1');
    assert.equal(o.broker.clusterName, 'orders');
    assert.equal(clusterNodeOptions(conf('cluster_formation.peer_discovery_backend = etcd', 'cluster_formation.etcd.endpoints.1 = e1:2379'), 'n', log).clusterName, 'default');
  });

  it('explicit keys win: etcd cluster name and prefix, cluster.listener.port, cluster.advertised_host, a specific listen address', () => {
    const o = clusterNodeOptions(conf(
      'listeners.tcp.default = 10.0.0.5:5673', 'cluster_name = shown', 'cluster_formation.peer_discovery_backend = etcd',
      'cluster_formation.etcd.endpoints.1 = e1:2379', 'cluster_formation.etcd.cluster_name = grouped', 'cluster_formation.etcd.key_prefix = /mq/',
      'cluster.listener.port = 4000',
    ), 'warren-2', log);
    assert.equal(o.clusterName, 'grouped');
    assert.equal(o.broker.clusterName, 'shown', 'cluster_name stays what clients and the API report');
    assert.equal(o.keyPrefix, '/mq/');
    assert.equal(o.clusterPort, 4000);
    assert.equal(o.advertisedHost, '10.0.0.5');
    assert.equal(clusterNodeOptions(conf('listeners.tcp.default = 5672', 'cluster.advertised_host = mq1.example.com', 'cluster_formation.peer_discovery_backend = etcd', 'cluster_formation.etcd.endpoints.1 = e1:2379'), 'n', log).advertisedHost, 'mq1.example.com');
    // An AMQP port whose + 20000 is out of range: a free port, advertised in etcd.
    assert.equal(clusterNodeOptions(conf('listeners.tcp.default = 50000', 'cluster_formation.peer_discovery_backend = etcd', 'cluster_formation.etcd.endpoints.1 = e1:2379'), 'n', log).clusterPort, 0);
  });
});
