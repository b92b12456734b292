/**
 * From the broker's options (rabbitmq.conf's cluster_formation.*, cluster.*, --node-name) to what a
 * cluster node needs: names, etcd endpoints and key prefix, advertised host, replication port.
 */
import { hostname } from 'node:os';
import type { BrokerOptions } from '../config.js';
import { DEFAULTS } from '../config.js';
import type { Logger } from '../logger.js';
import type { ClusterNodeOptions } from './cluster-node.js';

/** True when the config asks for a cluster (etcd peer discovery); otherwise Warren is a single node. */
export function wantsCluster(o: BrokerOptions): boolean {
  return o.clusterFormation?.peerDiscoveryBackend === 'etcd';
}

export function clusterNodeOptions(o: BrokerOptions, nodeName: string, log: Logger): ClusterNodeOptions {
  const cf = o.clusterFormation ?? {};
  // RabbitMQ's etcd plugin groups nodes by cluster_formation.etcd.cluster_name (default "default").
  const clusterName = cf.etcdClusterName ?? o.clusterName ?? 'default';
  const host = o.host ?? DEFAULTS.host;
  const wildcard = host === '::' || host === '0.0.0.0';
  const amqpPort = o.port ?? DEFAULTS.port;
  // As RabbitMQ's distribution port: the AMQP port + 20000 (0, a free port, when that is out of range).
  const clusterPort = o.clusterListenerPort ?? (amqpPort > 0 && amqpPort + 20000 <= 65535 ? amqpPort + 20000 : 0);
  return {
    broker: { ...o, nodeName, clusterName: o.clusterName ?? clusterName },
    nodeName,
    clusterName,
    keyPrefix: cf.etcdKeyPrefix ?? 'rabbitmq',
    etcdEndpoints: cf.etcdEndpoints ?? [],
    advertisedHost: o.clusterAdvertisedHost ?? (wildcard ? hostname() : host),
    clusterPort,
    log,
  };
}
