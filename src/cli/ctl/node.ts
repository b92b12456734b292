/**
 * Node-level commands: await_startup, export_definitions, import_definitions (status is with the
 * diagnostics, in diagnostics.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CtlError, Exit, apiError, reasonOf } from './client.js';
import type { CommandTable } from './command.js';

export const nodeCommands: CommandTable = {
  await_startup: {
    usage: 'await_startup [--timeout <seconds>]',
    description: 'Waits until the broker answers (default timeout 300 seconds)',
    minArgs: 0,
    maxArgs: 0,
    async run(ctx) {
      const timeoutSeconds = typeof ctx.options['timeout'] === 'string' ? ctx.timeoutSeconds : 300;
      const deadline = Date.now() + timeoutSeconds * 1000;
      let last = '';
      for (;;) {
        try {
          const res = await ctx.client.request('GET', '/api/overview');
          if (res.status === 200) return;
          if (res.status === 401) throw apiError(res);
          last = `HTTP ${res.status}: ${reasonOf(res)}`;
        } catch (e) {
          if (!(e instanceof CtlError) || e.exitCode === Exit.NOPERM) throw e;
          last = e.message;
        }
        if (Date.now() >= deadline) {
          throw new CtlError(`the broker did not start within ${timeoutSeconds} seconds (${last})`, Exit.TEMPFAIL);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    },
  },
  export_definitions: {
    usage: 'export_definitions <file | ->',
    description: 'Writes users, vhosts, permissions, queues, exchanges and bindings as RabbitMQ definitions JSON',
    minArgs: 1,
    maxArgs: 1,
    async run(ctx) {
      const [file] = ctx.args as [string];
      const defs = await ctx.client.get('/api/definitions');
      if (file === '-') {
        ctx.out.raw(`${JSON.stringify(defs)}\n`);
        return;
      }
      ctx.out.banner(`Exporting definitions in JSON to a file at "${file}" ...`);
      try {
        writeFileSync(file, JSON.stringify(defs, null, 2));
      } catch (e) {
        throw new CtlError(`cannot write ${file}: ${(e as Error).message}`, Exit.UNAVAILABLE);
      }
    },
  },
  import_definitions: {
    usage: 'import_definitions <file | ->',
    description: 'Imports a RabbitMQ definitions JSON file (e.g. from rabbitmqctl export_definitions)',
    minArgs: 1,
    maxArgs: 1,
    async run(ctx) {
      const [file] = ctx.args as [string];
      let text: string;
      try {
        text = readFileSync(file === '-' ? 0 : file, 'utf8');
      } catch (e) {
        throw new CtlError(`cannot read ${file}: ${(e as Error).message}`, Exit.DATAERR);
      }
      let defs: unknown;
      try {
        defs = JSON.parse(text);
      } catch (e) {
        throw new CtlError(`${file} is not valid JSON: ${(e as Error).message}`, Exit.DATAERR);
      }
      ctx.out.banner(`Importing definitions in JSON from a file at "${file}" ...`);
      const res = await ctx.client.request('POST', '/api/definitions', defs);
      if (res.status === 400) throw new CtlError(`definitions refused: ${reasonOf(res)}`, Exit.DATAERR);
      if (res.status >= 300) throw apiError(res);
      ctx.out.banner('Successfully imported definitions.');
    },
  },
};
