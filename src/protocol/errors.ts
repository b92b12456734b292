/**
 * Every AMQP error Warren raises. A rule is checked where it lives and throws one of these; the
 * connection turns it into channel.close (soft codes) or connection.close (hard codes) in one place.
 * Reply texts follow RabbitMQ's shape: `<NAME> - <detail>`, which clients show to users.
 */
import { HARD_ERROR_CODES, REPLY_NAMES, ReplyCode } from './generated.js';

export class AmqpError extends Error {
  constructor(
    readonly replyCode: number,
    detail: string,
    /** The method that caused it (class-id << 16 | method-id), 0 when none. */
    public methodId = 0,
  ) {
    super(`${REPLY_NAMES[replyCode] ?? 'ERROR'} - ${detail}`);
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
export const accessRefused = (detail: string) => new AmqpError(ReplyCode.ACCESS_REFUSED, detail);
export const preconditionFailed = (detail: string) => new AmqpError(ReplyCode.PRECONDITION_FAILED, detail);
export const resourceLocked = (detail: string) => new AmqpError(ReplyCode.RESOURCE_LOCKED, detail);
export const notAllowed = (detail: string) => new AmqpError(ReplyCode.NOT_ALLOWED, detail);
export const commandInvalid = (detail: string) => new AmqpError(ReplyCode.COMMAND_INVALID, detail);
export const frameError = (detail: string) => new AmqpError(ReplyCode.FRAME_ERROR, detail);
export const syntaxError = (detail: string) => new AmqpError(ReplyCode.SYNTAX_ERROR, detail);
export const unexpectedFrame = (detail: string) => new AmqpError(ReplyCode.UNEXPECTED_FRAME, detail);
export const channelError = (detail: string) => new AmqpError(ReplyCode.CHANNEL_ERROR, detail);
export const notImplemented = (detail: string) => new AmqpError(ReplyCode.NOT_IMPLEMENTED, detail);
export const internalError = (detail: string) => new AmqpError(ReplyCode.INTERNAL_ERROR, detail);

/** `'name' in vhost '/'` as RabbitMQ writes resource names in reply texts. */
export const describeResource = (kind: 'queue' | 'exchange', name: string, vhost: string) =>
  `${kind} '${name}' in vhost '${vhost}'`;
