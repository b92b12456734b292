/**
 * What connections and channels need from the broker, as an interface so that the connection
 * layer does not depend on how the broker is assembled (listener, storage, management).
 */
import type { Socket } from 'node:net';
import type { LoginOutcome } from '../auth/login.js';
import type { UserStore } from '../auth/users.js';
import type { VirtualHost } from '../broker/vhost.js';
import type { FieldTable } from '../protocol/field-table.js';
import type { Logger } from '../logger.js';
import type { DataDirChanges } from '../data-dir-changes.js';
import type { NodeCounters } from '../metrics/counters.js';

export interface BrokerLimits {
  frameMax: number;
  channelMax: number;
  /** Heartbeat the server proposes, seconds (0 = off). */
  heartbeat: number;
  handshakeTimeoutMs: number;
  /** Largest accepted message body, bytes (RabbitMQ's max_message_size). */
  maxMessageSize: number;
  /** consumer_timeout: ms a delivery may stay unacknowledged (per queue: x-consumer-timeout). */
  consumerTimeoutMs: number;
}

export interface BrokerContext {
  readonly config: BrokerLimits;
  readonly vhosts: ReadonlyMap<string, VirtualHost>;
  readonly users: UserStore;
  readonly log: Logger;
  /** Prometheus totals; connections and channels add to them. */
  readonly counters: NodeCounters;
  serverProperties(): FieldTable;
  /** SASL mechanisms offered on this socket, in preference order (EXTERNAL only to TLS clients with a certificate). */
  saslMechanisms(socket: Socket): string[];
  /** Checks a connection.start-ok (credentials or client certificate, loopback rule) and counts the attempt. */
  login(mechanism: string, response: Buffer, socket: Socket): LoginOutcome;
  /** A resource alarm (memory/disk) is active: publishers get blocked. */
  readonly alarmActive: boolean;
  /** connection.blocked's reason for the active alarm ('low on memory' / 'low on disk'). */
  readonly alarmReason: string;
  /**
   * Cluster leader: the data dir's change feed. A reply to a method that changed durable
   * definitions (declare-ok, bind-ok, delete-ok...) waits on its gate, so a client never sees a
   * definition that a newly elected leader would not have. Undefined on a single node.
   */
  readonly replication: DataDirChanges | undefined;
  /**
   * Definition changes saved so far (a count): a method whose call changed it wrote durable
   * definitions, and its reply waits for whenDefinitionsStored().
   */
  readonly definitionsWritten: number;
  /** Calls back once every definition change saved so far is on disk (at once if none waits). */
  whenDefinitionsStored(callback: () => void): void;
}
