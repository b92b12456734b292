// Microseconds on the process-wide monotonic clock. process.hrtime() reads CLOCK_MONOTONIC, which
// every worker thread shares, so a publisher's stamp and a consumer's reading are comparable
// (performance.now() is not: each worker has its own time origin). Called once per batch/read.
export function nowUs(): number {
  const t = process.hrtime();
  return t[0] * 1e6 + t[1] / 1e3;
}
