/**
 * JSON of RabbitMQ 3.10's rabbitmq_stream_management: stream-protocol connections, their publishers
 * and their consumers (field names as the reference shows them).
 */
import type { StreamConnection } from '../stream/stream-connection.js';
import type { Publisher } from '../stream/publisher.js';
import type { Subscription } from '../stream/subscription.js';
import { streamConnectionKey, type StatsCollector } from './stats.js';
import { NODE_NAME, peerHost, socketJson, withDetails } from './views.js';

type Json = Record<string, unknown>;

export function streamConnectionJson(stats: StatsCollector, c: StreamConnection): Json {
  return {
    name: c.name,
    node: NODE_NAME,
    protocol: 'stream',
    state: c.isOpen ? 'running' : 'closing',
    user: c.user,
    user_who_performed_action: c.user,
    vhost: c.vhost,
    auth_mechanism: c.authMechanism,
    ...socketJson(c.socket),
    channels: 0,
    channel_max: 0,
    frame_max: c.frameMax,
    timeout: c.heartbeat,
    client_properties: c.clientProperties,
    connected_at: c.connectedAt,
    ...withDetails(stats, streamConnectionKey(c), { recv_oct: c.socket.bytesRead, send_oct: c.socket.bytesWritten }),
    recv_cnt: c.recvCnt,
    send_cnt: c.sendCnt,
    send_pend: c.socket.writableLength,
  };
}

function connectionDetails(c: StreamConnection): Json {
  return {
    name: c.name,
    node: NODE_NAME,
    peer_host: peerHost(c),
    peer_port: c.socket.remotePort ?? 0,
    user: c.user,
  };
}

export function streamPublisherJson(c: StreamConnection, p: Publisher): Json {
  return {
    publisher_id: p.id,
    reference: p.reference,
    queue: { name: p.stream.name, vhost: p.stream.vhost },
    published: p.published,
    confirmed: p.confirmed,
    errored: p.errored,
    connection_details: connectionDetails(c),
  };
}

export function streamConsumerJson(c: StreamConnection, s: Subscription): Json {
  const log = s.stream.log;
  return {
    subscription_id: s.id,
    queue: { name: s.stream.name, vhost: s.stream.vhost },
    consumed: s.messagesDelivered,
    credits: s.credit,
    offset: s.lastChunkOffset,
    // How far the last chunk delivered is behind the stream's last chunk, as RabbitMQ counts it.
    offset_lag: log.lastOffset >= 0 ? Math.max(0, log.lastChunkStart() - s.lastChunkOffset) : 0,
    properties: s.properties,
    connection_details: connectionDetails(c),
  };
}
