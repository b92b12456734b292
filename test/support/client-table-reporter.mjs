// A node:test reporter for the cross-client suite: Node's own spec reporter,
// with a per-client table (client, version, passed, failed) printed just
// before the runner's closing summary. Each client's suite is one top-level
// describe named "<client> <version>".
//   node --test --test-reporter=./test/support/client-table-reporter.mjs dist/test/interop/*.test.js
import { spec as SpecReporter } from 'node:test/reporters';

export default async function* clientTableReporter(source) {
  const spec = new SpecReporter();
  const table = new ClientTable();
  let tablePrinted = false;
  for await (const event of source) {
    table.record(event);
    // The runner's summary is a run of top-level diagnostics ("tests N", "pass N", ...)
    // after the last test: the table goes right before it.
    if (!tablePrinted && event.type === 'test:diagnostic' && event.data.nesting === 0 && /^tests \d+$/.test(event.data.message)) {
      tablePrinted = true;
      yield table.render();
    }
    spec.write(event);
    const out = spec.read();
    if (out !== null) yield out;
  }
  if (!tablePrinted) yield table.render();
  spec.end();
  for (let out; (out = spec.read()) !== null; ) yield out;
}

class ClientTable {
  constructor() {
    /** file → counts of its tests not yet attributed to a suite */
    this.pending = new Map();
    /** "<client> <version>" → { passed, failed, skipped } in completion order */
    this.rows = new Map();
  }

  record(event) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') return;
    const { data } = event;
    const file = data.file ?? '';
    const failed = event.type === 'test:fail';
    const isSuite = data.details?.type === 'suite';
    if (data.nesting === 1 && !isSuite) {
      // A scenario: children finish before their describe does.
      const counts = this.pending.get(file) ?? { passed: 0, failed: 0, skipped: 0 };
      if (data.skip !== undefined || data.todo !== undefined) counts.skipped++;
      else if (failed) counts.failed++;
      else counts.passed++;
      this.pending.set(file, counts);
    } else if (data.nesting === 0) {
      let counts = this.pending.get(file) ?? { passed: 0, failed: 0, skipped: 0 };
      this.pending.delete(file);
      // A top-level test, or a file that failed before any scenario ran, counts as one.
      if (!isSuite || counts.passed + counts.failed + counts.skipped === 0) {
        counts = { passed: failed ? 0 : 1, failed: failed ? 1 : 0, skipped: 0 };
      }
      const row = this.rows.get(data.name) ?? { passed: 0, failed: 0, skipped: 0 };
      row.passed += counts.passed;
      row.failed += counts.failed;
      row.skipped += counts.skipped;
      this.rows.set(data.name, row);
    }
  }

  render() {
    const rows = [...this.rows.entries()]
      .map(([name, counts]) => ({ ...splitName(name), ...counts }))
      .sort((a, b) => a.client.localeCompare(b.client));
    const withSkipped = rows.some((r) => r.skipped > 0);
    const header = ['client', 'version', 'passed', 'failed', ...(withSkipped ? ['skipped'] : []), 'status'];
    const lines = rows.map((r) => [
      r.client,
      r.version,
      String(r.passed),
      String(r.failed),
      ...(withSkipped ? [String(r.skipped)] : []),
      r.failed > 0 ? 'FAIL' : 'pass',
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
    const format = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
    const rule = widths.map((w) => '-'.repeat(w)).join('  ');
    return ['', 'Client compatibility', format(header), rule, ...lines.map(format), ''].join('\n') + '\n';
  }
}

/**
 * "amqp091-go 1.5.0" → amqp091-go / 1.5.0; "celery 5.2.6 (kombu 5.2.4)" → celery / 5.2.6 (kombu 5.2.4):
 * the version starts at the first word that starts with a digit. A name without one keeps it whole.
 */
function splitName(name) {
  const match = /^(.*?\S)\s+(v?\d.*)$/.exec(name);
  return match ? { client: match[1], version: match[2] } : { client: name, version: '-' };
}
