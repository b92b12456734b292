/**
 * Structured logs. Each entry is {time, level, msg, ...fields}; a sink writes it as one JSON line
 * (what log shippers ingest as-is) or as a plain-text line in RabbitMQ's shape
 * (`2026-12-04 19:28:36.635+00:00 [warning] msg key=value`). Sinks: the console (stdout) and a file,
 * each with its own level threshold (RabbitMQ's log.console.* / log.file.*). A file sink can be
 * reopened (SIGUSR1/SIGHUP in the CLI) so logrotate can move the file away. A level threshold keeps
 * hot paths from formatting what nobody reads.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;
export type LogFormatter = 'json' | 'plaintext';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
/** RabbitMQ's level names in plain-text lines. */
const RABBIT_LEVEL: Record<LogLevel, string> = { debug: 'debug', info: 'info', warn: 'warning', error: 'error' };

export function formatLine(formatter: LogFormatter, level: LogLevel, msg: string, fields?: Record<string, unknown>): string {
  const time = new Date();
  if (formatter === 'json') return JSON.stringify({ time: time.toISOString(), level, msg, ...fields }) + '\n';
  let line = `${time.toISOString().replace('T', ' ').replace('Z', '+00:00')} [${RABBIT_LEVEL[level]}] ${msg}`;
  for (const [k, v] of Object.entries(fields ?? {})) {
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    line += ` ${k}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
  }
  return line + '\n';
}

export function createLogger(
  minLevel: LogLevel | 'silent' = 'info',
  write: (line: string) => void = (l) => process.stdout.write(l),
  formatter: LogFormatter = 'json',
): Logger {
  if (minLevel === 'silent') return () => {};
  const min = RANK[minLevel];
  return (level, msg, fields) => {
    if (RANK[level] < min) return;
    write(formatLine(formatter, level, msg, fields));
  };
}

/** A log file opened for appending; reopen() starts writing to whatever file now has that path. */
export class LogFile {
  private fd: number;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  /** Synchronous: a line is on its way to the file before the broker moves on (crash logs survive). */
  write(line: string): void {
    writeSync(this.fd, line);
  }

  reopen(): void {
    const old = this.fd;
    this.fd = openSync(this.path, 'a');
    closeSync(old);
  }

  close(): void {
    closeSync(this.fd);
  }
}

export interface LogSettings {
  logger?: Logger | undefined;
  logLevel?: LogLevel | 'silent' | undefined;
  logConsole?: boolean | undefined;
  logConsoleLevel?: LogLevel | 'silent' | undefined;
  logFile?: string | undefined;
  logFileLevel?: LogLevel | 'silent' | undefined;
  logFormatter?: LogFormatter | undefined;
}

export interface Logging {
  readonly log: Logger;
  /** Reopen the log file (after logrotate moved it); no-op without one. */
  reopen(): void;
  close(): void;
}

/**
 * The broker's logging from its options. Nothing is logged unless asked: a `logger`, `logConsole`,
 * `logFile` or an explicit `logLevel` (which alone means the console, as before these options).
 * An embedded broker is silent by default; the `warren` CLI turns the console on.
 */
export function createLogging(o: LogSettings): Logging {
  const formatter = o.logFormatter ?? 'json';
  const sinks: Logger[] = [];
  if (o.logger) sinks.push(o.logLevel && o.logLevel !== 'silent' ? filtered(o.logger, o.logLevel) : o.logger);
  const toConsole = o.logConsole ?? (o.logger === undefined && o.logFile === undefined && o.logLevel !== undefined);
  if (toConsole) sinks.push(createLogger(o.logConsoleLevel ?? o.logLevel ?? 'info', (l) => process.stdout.write(l), formatter));
  let file: LogFile | undefined;
  if (o.logFile) {
    const f = (file = new LogFile(o.logFile));
    sinks.push(createLogger(o.logFileLevel ?? o.logLevel ?? 'info', (l) => f.write(l), formatter));
  }
  const log: Logger = sinks.length === 0 ? () => {} : sinks.length === 1 ? sinks[0]! : (level, msg, fields) => {
    for (const s of sinks) s(level, msg, fields);
  };
  return { log, reopen: () => file?.reopen(), close: () => file?.close() };
}

function filtered(logger: Logger, min: LogLevel): Logger {
  const rank = RANK[min];
  return (level, msg, fields) => {
    if (RANK[level] >= rank) logger(level, msg, fields);
  };
}
