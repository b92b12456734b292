// amqp://user:pass@host:port/vhost, as RabbitMQ's URI spec reads it (empty path = vhost "/").

export interface AmqpUri {
  host: string;
  port: number;
  user: string;
  pass: string;
  vhost: string;
}

export function parseAmqpUri(text: string): AmqpUri {
  const u = new URL(text);
  if (u.protocol !== 'amqp:') throw new Error(`unsupported URI scheme ${u.protocol} (only amqp:// is supported)`);
  const path = u.pathname;
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port ? Number(u.port) : 5672,
    user: u.username ? decodeURIComponent(u.username) : 'guest',
    pass: u.password ? decodeURIComponent(u.password) : 'guest',
    // "/" and "" both mean the default vhost; "/%2f" is the explicit spelling of "/"
    vhost: path === '' || path === '/' ? '/' : decodeURIComponent(path.slice(1)),
  };
}
