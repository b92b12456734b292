// @cloudamqp/amqp-client (npm), the zero-dependency TypeScript client.
import { join } from 'node:path';
import { describeClient } from './harness/client-suite.js';
import { npmPackageVersion, programDir } from './harness/versions.js';

describeClient({
  name: '@cloudamqp/amqp-client',
  version: npmPackageVersion('@cloudamqp/amqp-client'),
  prepare: async () => ({
    command: process.execPath,
    args: [join(programDir('cloudamqp-amqp-client'), 'scenarios.mjs')],
  }),
});
