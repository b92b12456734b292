// Bunny, the Ruby client (Debian's ruby-bunny).
import { join } from 'node:path';
import { describeClient } from './harness/client-suite.js';
import { debianPackageVersion, programDir } from './harness/versions.js';

describeClient({
  name: 'bunny',
  version: debianPackageVersion('ruby-bunny'),
  prepare: async () => ({ command: 'ruby', args: [join(programDir('ruby'), 'scenarios.rb')] }),
});
