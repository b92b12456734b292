import { MMAP_THRESHOLD } from '../memory/body-slabs.js';

/**
 * How Warren's node process is started. Both can only be given before any JS runs (V8 sizes its
 * heap first; glibc reads its tunables when the process starts), so they are repeated in the
 * shebang of cli/warren.ts (`env -S`) and in package.json's `start` script
 * (test/cli-startup.test.ts checks that all three agree); benchmarks and tests that spawn the CLI
 * with process.execPath pass both.
 *
 * --max-semi-space-size=4 (MiB, default 16): V8 never shrinks the young generation it grew, so
 * after a flood 3 × 16 MiB of semi-spaces stayed resident; capped at 4 it is 12 MiB, and the
 * broker was no slower (README "Memory comes back" has the figures).
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/**
 * GLIBC_TUNABLES=glibc.malloc.mmap_threshold=65536 (MMAP_THRESHOLD): the body slabs a backlog fills,
 * socket reads, output slabs and read-back chunks get mappings of their own and go back to the
 * system when freed. glibc's default threshold starts at 128 KiB and rises to the size of each
 * mapped block freed, so those blocks were carved from the main heap, which glibc can only shrink
 * from its top: after a flood tens of MiB, after consuming a 1.3 M-message backlog 1.5 GiB stayed
 * resident (README "Memory comes back", memory/body-slabs.ts).
 */
export const NODE_ENVIRONMENT: Readonly<Record<string, string>> = { GLIBC_TUNABLES: `glibc.malloc.mmap_threshold=${MMAP_THRESHOLD}` };

/** NODE_ENVIRONMENT as the `NAME=value` words of the shebang and `npm start`. */
export const NODE_ENVIRONMENT_WORDS: readonly string[] = Object.entries(NODE_ENVIRONMENT).map(([k, v]) => `${k}=${v}`);

/** `env` plus NODE_ENVIRONMENT, for spawning the CLI (tunables already in `env` are kept). */
export function withNodeEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const [k, v] of Object.entries(NODE_ENVIRONMENT)) out[k] = env[k] ? `${env[k]}:${v}` : v;
  return out;
}
