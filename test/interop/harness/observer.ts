// A neutral second client (amqplib) that inspects broker state for scenarios
// whose client under test cannot report it itself, e.g. amqp-tools, which
// never prints message properties or unacknowledged counts.
import amqp from 'amqplib';

export interface QueueState {
  messageCount: number;
  consumerCount: number;
}

export class Observer {
  private constructor(private readonly connection: amqp.ChannelModel) {}

  static async connect(url: string): Promise<Observer> {
    return new Observer(await amqp.connect(url));
  }

  /** Passive declare; undefined when the queue does not exist (yet). */
  async queueState(queue: string): Promise<QueueState | undefined> {
    // A 404 closes the channel, so each probe gets its own.
    const channel = await this.connection.createChannel();
    channel.on('error', () => {});
    try {
      const { messageCount, consumerCount } = await channel.checkQueue(queue);
      await channel.close();
      return { messageCount, consumerCount };
    } catch {
      return undefined;
    }
  }

  async waitForConsumer(queue: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.queueState(queue);
      if (state && state.consumerCount > 0) return;
      if (Date.now() > deadline) throw new Error(`no consumer appeared on ${queue}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async get(queue: string): Promise<amqp.GetMessage | false> {
    const channel = await this.connection.createChannel();
    try {
      return await channel.get(queue, { noAck: true });
    } finally {
      await channel.close();
    }
  }

  async deleteQueue(queue: string): Promise<void> {
    const channel = await this.connection.createChannel();
    channel.on('error', () => {});
    try {
      await channel.deleteQueue(queue);
      await channel.close();
    } catch {
      // Already gone.
    }
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
