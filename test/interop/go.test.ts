// amqp091-go, the official RabbitMQ Go client (Debian's copy, built offline).
import { join } from 'node:path';
import { describeClient } from './harness/client-suite.js';
import { buildDir, runBuild } from './harness/build.js';
import { debianPackageVersion, programDir } from './harness/versions.js';

describeClient({
  name: 'amqp091-go',
  version: debianPackageVersion('golang-github-rabbitmq-amqp091-go-dev'),
  prepare: async () => {
    const binary = join(buildDir('go'), 'interop-go');
    await runBuild('sh', [join(programDir('go'), 'build.sh'), binary]);
    return { command: binary, args: [] };
  },
});
