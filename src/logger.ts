/**
 * Structured logs: one JSON object per line on stdout ({time, level, msg, ...fields}), the shape log
 * shippers ingest as-is. A level threshold keeps hot paths from formatting what nobody reads.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(minLevel: LogLevel | 'silent' = 'info', write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  if (minLevel === 'silent') return () => {};
  const min = RANK[minLevel];
  return (level, msg, fields) => {
    if (RANK[level] < min) return;
    write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');
  };
}
