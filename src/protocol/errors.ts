/**
 * Every AMQP error Warren raises. A rule is checked where it lives and throws one of these; the
 * connection turns it into channel.close (soft codes) or connection.close (hard codes) in one place.
 * Reply texts follow RabbitMQ's shape: `<NAME> - <detail>`, which clients show to users.
 */
import { HARD_ERROR_CODES, REPLY_NAMES, ReplyCode } from './generated.js';

export class AmqpError extends Error {
  constructor(
    readonly replyCode: number,
    /** The text after `<NAME> - `. */
    readonly detail: string,
    /** The method that caused it (class-id << 16 | method-id), 0 when none. */
    readonly methodId = 0,
  ) {
    // With no detail the text is the bare name, as RabbitMQ's "INTERNAL_ERROR".
    super(detail === '' ? REPLY_NAMES[replyCode] ?? 'ERROR' : `${REPLY_NAMES[replyCode] ?? 'ERROR'} - ${detail}`);
  }

  /**
   * This error as raised by method `id`: the channel knows which method it was dispatching, the
   * code that threw usually does not. An error that already names its method keeps it.
   */
  inMethod(id: number): AmqpError {
    return this.methodId !== 0 ? this : new AmqpError(this.replyCode, this.detail, id);
  }

  /** Hard errors close the whole connection; soft errors only the channel. */
  get isConnectionError(): boolean {
    return HARD_ERROR_CODES.has(this.replyCode);
  }

  /** AMQP's short-string limit: as RabbitMQ, a longer text keeps its first 252 bytes and ends in "...". */
  get replyText(): string {
    const bytes = Buffer.from(this.message);
    if (bytes.length <= 255) return this.message;
    let cut = 252;
    // Never split a UTF-8 sequence (continuation bytes are 10xxxxxx).
    while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
    return `${bytes.subarray(0, cut).toString()}...`;
  }
}

export const notFound = (detail: string) => new AmqpError(ReplyCode.NOT_FOUND, detail);
export const connectionForced = (detail: string) => new AmqpError(ReplyCode.CONNECTION_FORCED, detail);
export const accessRefused = (detail: string) => new AmqpError(ReplyCode.ACCESS_REFUSED, detail);
export const preconditionFailed = (detail: string) => new AmqpError(ReplyCode.PRECONDITION_FAILED, detail);
export const resourceLocked = (detail: string) => new AmqpError(ReplyCode.RESOURCE_LOCKED, detail);
export const notAllowed = (detail: string) => new AmqpError(ReplyCode.NOT_ALLOWED, detail);
export const commandInvalid = (detail: string, methodId = 0) => new AmqpError(ReplyCode.COMMAND_INVALID, detail, methodId);
export const frameError = (detail: string, methodId = 0) => new AmqpError(ReplyCode.FRAME_ERROR, detail, methodId);
export const syntaxError = (detail: string, methodId = 0) => new AmqpError(ReplyCode.SYNTAX_ERROR, detail, methodId);
export const unexpectedFrame = (detail: string, methodId = 0) => new AmqpError(ReplyCode.UNEXPECTED_FRAME, detail, methodId);
export const channelError = (detail: string, methodId = 0) => new AmqpError(ReplyCode.CHANNEL_ERROR, detail, methodId);
export const notImplemented = (detail: string) => new AmqpError(ReplyCode.NOT_IMPLEMENTED, detail);
export const internalError = (detail: string) => new AmqpError(ReplyCode.INTERNAL_ERROR, detail);

/** `'name' in vhost '/'` as RabbitMQ writes resource names in reply texts. */
export const describeResource = (kind: 'queue' | 'exchange', name: string, vhost: string) =>
  `${kind} '${name}' in vhost '${vhost}'`;

// Texts RabbitMQ uses for specific situations, so every place that needs one says it the same way.

/** Login refused (bad credentials, or a loopback-only user from elsewhere): RabbitMQ does not say which. */
export const loginRefused = (mechanism: string) =>
  accessRefused(`Login was refused using authentication mechanism ${mechanism}. For details see the broker logfile.`);
/** Every client of a stopping broker gets connection.close with this. */
export const brokerShutdown = () => connectionForced("broker forced connection closure with reason 'shutdown'");
export const vhostDeleted = () => connectionForced('vhost deleted');
/** The management API's "close connection" (the reason comes from the X-Reason header). */
export const closedByManagement = (reason: string) => connectionForced(reason);
/** basic.return's reply for an unroutable mandatory message: the bare name, as RabbitMQ sends it. */
export const NO_ROUTE_RETURN = { replyCode: ReplyCode.NO_ROUTE, replyText: 'NO_ROUTE' } as const;

/**
 * RabbitMQ's description of a frame it could not use: "type 8, all octets = <<>>", the payload
 * printed as an Erlang binary (text when every byte is printable ASCII, else byte values).
 */
export function describeFrame(type: number, payload: Buffer): string {
  return `type ${type}, all octets = ${describeOctets(payload)}`;
}

/** Bytes as Erlang prints a binary: text when every byte is printable ASCII, else byte values. */
function describeOctets(bytes: Buffer): string {
  if (bytes.length === 0) return '<<>>';
  const printable = bytes.every((b) => b >= 0x20 && b < 0x7f);
  return printable ? `<<"${bytes.toString('latin1').replace(/["\\]/g, '\\$&')}">>` : `<<${[...bytes].join(',')}>>`;
}
/** What FrameReader says when a frame ends before the fields it should hold. */
export const PAYLOAD_TOO_SHORT = 'frame payload too short for its fields';
/** Method arguments cut short or followed by extra bytes (RabbitMQ prints the argument bytes). */
export const cannotDecode = (args: Buffer) => frameError(`cannot decode ${describeOctets(args)}`);
/** Property bytes RabbitMQ cannot decode: its channel crashes, and the connection closes with a bare 541. */
export const malformedProperties = () => internalError('');
/** A delivery_mode property other than 1 or 2. */
export const unknownDeliveryMode = (mode: number) => preconditionFailed(`invalid message: {delivery_mode_unknown,${mode}}`);
/** A frame RabbitMQ cannot make sense of: an unknown type, a heartbeat with a payload, a short content header. */
export const unknownFrame = (type: number, payload: Buffer) => frameError(`${describeFrame(type, payload)}: unknown_frame`);
/** A frame longer than the negotiated frame_max (RabbitMQ does not read its payload first). */
export const frameTooLarge = (type: number, payloadSize: number, frameMax: number) =>
  frameError(`${describeFrame(type, Buffer.alloc(0))}: {frame_too_large,${payloadSize},${frameMax - 8}}`);

/** Limits (RabbitMQ's texts). */
export const queueLimitReached = (queue: string, vhost: string, limit: number) =>
  preconditionFailed(`cannot declare queue '${queue}': queue limit in vhost '${vhost}' (${limit}) is reached`);
export const vhostConnectionLimitReached = (vhost: string, user: string, limit: number) =>
  notAllowed(`access to vhost '${vhost}' refused for user '${user}': connection limit (${limit}) is reached`);
export const userConnectionLimitReached = (user: string, limit: number) =>
  notAllowed(`connection refused for user '${user}': user connection limit (${limit}) is reached`);
export const userChannelLimitReached = (user: string, limit: number) =>
  notAllowed(`number of channels opened for user '${user}' has reached the maximum allowed user limit of (${limit})`);
/** An x-argument RabbitMQ refuses: "invalid arg 'x-max-priority' for queue 'q' in vhost '/': {value_negative,-1}". */
export const invalidArg = (arg: string, what: string, detail: string) => preconditionFailed(`invalid arg '${arg}' for ${what}: ${detail}`);
/** A CC or BCC header that is not an array (sender-selected distribution). */
export const invalidMessageHeader = (header: string, type: string) =>
  preconditionFailed(`invalid message: {unacceptable_type_in_header,"${header}",${type}}`);
/** Quorum queue declaration rules (RabbitMQ 3.10's texts). */
export const quorumInvalidProperty = (property: string, what: string) => preconditionFailed(`invalid property '${property}' for ${what}`);
/** queue.delete with if-unused or if-empty on a quorum queue (RabbitMQ 3.10: a connection error, whatever the queue's state). */
export const quorumDeleteFlagRefused = (flag: 'if-unused' | 'if-empty', what: string) =>
  notImplemented(`cannot delete ${what}. queue.delete operations with ${flag} flag set are not supported by quorum queues`);
export const serverNamedQueueRefused = (type: string) => preconditionFailed(`Cannot declare a server-named queue for type ${type}`);
/** A queue type Warren does not implement yet: refused rather than silently made classic. */
export const queueTypeNotSupported = (type: string) => preconditionFailed(`queue type '${type}' is not supported by this broker yet`);
/** consumer_timeout for a client without consumer_cancel_notify: the channel closes (RabbitMQ 3.10's text). */
export const deliveryAckTimeout = (channel: number, timeoutMs: number) =>
  preconditionFailed(`delivery acknowledgement on channel ${channel} timed out. Timeout value used: ${timeoutMs} ms. ` +
    'This timeout value can be configured, see consumers doc guide to learn more');
/** x-delayed-message without a usable x-delayed-type (the plugin's text). */
export const delayedTypeInvalid = () => preconditionFailed("Invalid argument, 'x-delayed-type' must be an existing exchange type");

// Stream queues (x-queue-type: stream), with RabbitMQ 3.10's texts.
const streamQueue = (queue: string, vhost: string) => `queue '${queue}' in vhost '${vhost}'`;
export const streamServerNamed = () => preconditionFailed('Cannot declare a server-named queue for type rabbit_stream_queue');
/** property: 'non-durable' | 'exclusive-owner' | 'auto-delete'. */
export const streamInvalidProperty = (property: string, queue: string, vhost: string) =>
  preconditionFailed(`invalid property '${property}' for ${streamQueue(queue, vhost)}`);
export const streamInvalidArgument = (arg: string, queue: string, vhost: string) =>
  preconditionFailed(`invalid arg '${arg}' for ${streamQueue(queue, vhost)} of queue type rabbit_stream_queue`);
export const streamInvalidMaxAge = (queue: string, vhost: string) =>
  preconditionFailed(`invalid arg 'x-max-age' for ${streamQueue(queue, vhost)}: invalid_max_age`);
export const streamPrefetchRequired = (queue: string, vhost: string) =>
  preconditionFailed(`consumer prefetch count is not set for '${streamQueue(queue, vhost)}'`);
/** what: 'automatic acknowledgement' | 'basic.get' | 'queue.purge' | 'basic.nack and basic.reject'. */
export const streamNotSupported = (what: string, queue: string, vhost: string) =>
  notImplemented(`${what} not supported by stream queues ${streamQueue(queue, vhost)}`);
/** RabbitMQ's consumer process crashes on an unparsable x-stream-offset: the connection gets 541. */
export const streamBadOffset = (value: string) => internalError(`invalid x-stream-offset ${value}`);
/**
 * Message deduplication's arguments (Warren's own texts in RabbitMQ's invalid-arg shape; RabbitMQ has
 * no such feature), e.g. "invalid arg 'x-cache-size' for queue 'q' in vhost '/': a positive integer
 * is required when x-message-deduplication is true".
 */
export const deduplicationFlagInvalid = (what: string, type: string) =>
  invalidArg('x-message-deduplication', what, `expected a boolean, got ${type}`);
export const deduplicationCacheSizeInvalid = (what: string) =>
  invalidArg('x-cache-size', what, 'a positive integer is required when x-message-deduplication is true');
export const deduplicationCacheTtlInvalid = (what: string) =>
  invalidArg('x-cache-ttl', what, 'must be a positive integer (milliseconds)');
