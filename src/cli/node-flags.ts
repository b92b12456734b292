/**
 * V8 flags Warren runs with. They can only be given on node's command line (V8 sizes its heap
 * before any JS runs), so they are repeated in the shebang of cli/warren.ts and in package.json's
 * `start` script (test/cli-startup.test.ts checks that all three agree); benchmarks and tests that
 * spawn the CLI with process.execPath pass these.
 *
 * --max-semi-space-size=4 (MiB, default 16): V8 never shrinks the young generation it grew, so
 * after a flood 3 × 16 MiB of semi-spaces stayed resident; capped at 4 it is 12 MiB, and the
 * broker was no slower (README "Memory comes back" has the figures).
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
