// php-amqplib, the PHP client (Debian's php-amqplib).
import { join } from 'node:path';
import { describeClient } from './harness/client-suite.js';
import { debianPackageVersion, programDir } from './harness/versions.js';

describeClient({
  name: 'php-amqplib',
  version: debianPackageVersion('php-amqplib'),
  prepare: async () => ({ command: 'php', args: [join(programDir('php'), 'scenarios.php')] }),
});
