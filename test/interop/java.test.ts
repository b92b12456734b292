// The RabbitMQ Java client (Debian's librabbitmq-client-java), compiled with the installed JDK.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeClient } from './harness/client-suite.js';
import { buildDir, runBuild } from './harness/build.js';
import { debianPackageVersion, programDir } from './harness/versions.js';

// Debian installs versionless symlinks in /usr/share/java; slf4j-nop keeps the
// client's logging facade quiet.
const jars = ['amqp-client.jar', 'slf4j-api.jar', 'slf4j-nop.jar'].map((jar) => join('/usr/share/java', jar));

describeClient({
  name: 'amqp-client-java',
  version: debianPackageVersion('librabbitmq-client-java'),
  timeoutMs: 45_000,
  prepare: async () => {
    const missing = jars.filter((jar) => !existsSync(jar));
    if (missing.length) throw new Error(`missing ${missing.join(', ')} (apt-get install librabbitmq-client-java libslf4j-java)`);
    const classes = buildDir('java');
    const classpath = jars.join(':');
    await runBuild('javac', ['-d', classes, '-cp', classpath, join(programDir('java'), 'Scenarios.java')]);
    // Client-style JVM flags that only shorten start-up, which dominates these short runs.
    return { command: 'java', args: ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-cp', `${classes}:${classpath}`, 'Scenarios'] };
  },
});
