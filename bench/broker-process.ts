// What the bench needs from a running broker, whichever it is.

export type BrokerKind = 'rabbitmq' | 'warren';

export const LABEL: Record<BrokerKind, string> = { rabbitmq: 'RabbitMQ', warren: 'Warren' };

export interface BrokerProcess {
  kind: BrokerKind;
  url: string;
  port: number;
  /** the process doing the work (beam.smp / node), for RSS and CPU figures */
  pid: number;
  dataDir: string;
  /** ms from spawning the process to the first successful AMQP handshake */
  startupMs: number;
  /** graceful stop; keeps the data dir */
  stop(): Promise<void>;
  /** SIGKILL to the whole process group, as a crash (RabbitMQ only: the failover reference) */
  kill?(): Promise<void>;
}

/** Starts a broker of one kind on a data dir (fresh or existing) and a fixed port. */
export type BrokerStarter = (dataDir: string, port: number, streamPort?: number) => Promise<BrokerProcess>;
