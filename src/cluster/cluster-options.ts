/**
 * From the broker's options (rabbitmq.conf's cluster_formation.*, cluster.*, --node-name) to what a
 * cluster node needs: names, etcd endpoints and key prefix, advertised host, replication port.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { BrokerOptions, EtcdTlsFiles } from '../config.js';
import { DEFAULTS } from '../config.js';
import type { Logger } from '../logger.js';
import type { ClusterNodeOptions } from './cluster-node.js';
import type { EtcdTls } from './etcd-client.js';

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
    ...(cf.etcdTls && usesTls(cf.etcdTls) ? { etcdTls: etcdTls(cf.etcdTls) } : {}),
    advertisedHost: o.clusterAdvertisedHost ?? (wildcard ? hostname() : host),
    clusterPort,
    log,
  };
}

/** TLS when the scheme says https or, as RabbitMQ 3.10 decides, when any ssl_options key is set. */
function usesTls(t: EtcdTlsFiles): boolean {
  if (t.scheme !== undefined) return t.scheme === 'https';
  return t.cacertfile !== undefined || t.certfile !== undefined || t.keyfile !== undefined || t.verify !== undefined || t.serverNameIndication !== undefined;
}

/** The files read now: a missing or unreadable one stops the start with its key named. */
function etcdTls(t: EtcdTlsFiles): EtcdTls {
  const read = (key: string, file: string | undefined): Buffer | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (e) {
      throw new Error(`cluster_formation.etcd.ssl_options.${key} = ${file}: ${(e as Error).message}`);
    }
  };
  if ((t.certfile === undefined) !== (t.keyfile === undefined)) {
    throw new Error('cluster_formation.etcd.ssl_options.certfile and keyfile go together (a client certificate needs its key)');
  }
  const ca = read('cacertfile', t.cacertfile);
  const cert = read('certfile', t.certfile);
  const key = read('keyfile', t.keyfile);
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    verify: t.verify !== 'verify_none',
    ...(t.serverNameIndication && t.serverNameIndication !== 'disable' ? { serverName: t.serverNameIndication } : {}),
  };
}
