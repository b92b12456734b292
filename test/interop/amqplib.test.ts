// amqplib (npm), the most used Node.js AMQP 0-9-1 client.
import { join } from 'node:path';
import { describeClient } from './harness/client-suite.js';
import { npmPackageVersion, programDir } from './harness/versions.js';

describeClient({
  name: 'amqplib',
  version: npmPackageVersion('amqplib'),
  prepare: async () => ({
    command: process.execPath,
    args: [join(programDir('amqplib'), 'scenarios.mjs')],
  }),
});
