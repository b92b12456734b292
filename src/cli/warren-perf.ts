#!/usr/bin/env node
// warren-perf: AMQP 0-9-1 load generator (see `warren-perf --help` and src/perf/).
import { USAGE, UsageError, parseArgs, type PerfOptions } from '../perf/options.js';
import { summaryText, tickLine } from '../perf/report.js';
import { runPerf } from '../perf/runner.js';

async function main(): Promise<number> {
  let o: PerfOptions | null;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`warren-perf: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (o === null) {
    process.stdout.write(USAGE);
    return 0;
  }
  const opts = o;
  // first Ctrl-C / SIGTERM ends the run early but still drains, cleans up and prints the summary
  const stop = new AbortController();
  const onSignal = (): void => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const summary = await runPerf(opts, {
    signal: stop.signal,
    onTick: (t) => {
      if (opts.quiet) return;
      process.stdout.write(opts.json ? `${JSON.stringify(t)}\n` : `${tickLine(t, opts.confirm > 0)}\n`);
    },
    onError: (msg) => {
      if (!opts.json) process.stderr.write(`warren-perf: ${msg}\n`);
    },
  });
  process.stdout.write(opts.json ? `${JSON.stringify(summary)}\n` : `${summaryText(summary)}\n`);
  return summary.totals.errors > 0 || summary.errors.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`warren-perf: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
