// rabbitmq-c (librabbitmq), the C client under amqp-tools: a small C program
// covers every scenario, including those the command-line tools cannot express.
import { join } from 'node:path';
import { describeClient } from './harness/client-suite.js';
import { buildDir, runBuild } from './harness/build.js';
import { debianPackageVersion, programDir } from './harness/versions.js';

describeClient({
  name: 'rabbitmq-c',
  version: debianPackageVersion('librabbitmq4'),
  prepare: async () => {
    const binary = join(buildDir('c'), 'interop-c');
    await runBuild('sh', [join(programDir('c'), 'build.sh'), binary]);
    return { command: binary, args: [] };
  },
});
