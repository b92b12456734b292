// Packaging: `npm start` on a built checkout starts without compiling; the systemd unit passes `systemd-analyze verify` (Debian's systemd) with no warning and
// its hardening scores as "OK" or better in `systemd-analyze security`; `npm pack` ships dist/ and a
// global install from the tarball gives working `warren`, `warrenctl` and `warren-perf` commands.
// Run from .ci/run.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliProcess, checkoutRoot } from '../support/cli-process.js';
import { freePort } from '../support/free-port.js';
import { channel, connect } from '../support/amqp-client.js';

const systemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('packaging', () => {
  const dirs: string[] = [];
  const procs: CliProcess[] = [];
  const tmp = (name: string) => {
    const d = mkdtempSync(join(tmpdir(), `warren-${name}-`));
    dirs.push(d);
    return d;
  };
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('packaging/warren.service is a valid, hardened unit', { skip: systemdAnalyze ? false : 'needs systemd-analyze (Debian package systemd)' }, () => {
    const unit = readFileSync(join(checkoutRoot, 'packaging', 'warren.service'), 'utf8');
    for (const line of ['LimitNOFILE=65536', 'ProtectSystem=strict', 'NoNewPrivileges=true', 'ReadWritePaths=/var/lib/warren /var/log/warren', 'ExecReload=/bin/kill -HUP $MAINPID']) {
      assert.ok(unit.split('\n').includes(line), `missing ${line}`);
    }
    assert.match(unit, /^Type=(simple|notify)$/m);
    // verify checks that ExecStart exists and is executable: point it at a stand-in for the installed binary.
    const dir = tmp('unit');
    const exec = join(dir, 'warren');
    writeFileSync(exec, '#!/bin/sh\nexit 0\n');
    chmodSync(exec, 0o755);
    const file = join(dir, 'warren.service');
    writeFileSync(file, unit.replace(/^ExecStart=\S+/m, `ExecStart=${exec}`));
    const verify = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stderr);
    // systemd only warns (exit 0) about unknown keys and bad values: any output is a finding.
    assert.equal(verify.stderr.trim(), '', verify.stderr);
    const security = spawnSync('systemd-analyze', ['security', '--offline=true', file], { encoding: 'utf8' });
    const m = /Overall exposure level for warren\.service: ([\d.]+) (\w+)/.exec(security.stdout);
    assert.ok(m, security.stdout + security.stderr);
    assert.ok(Number(m[1]) <= 2.5, `exposure ${m[1]} ${m[2]}`);
  });

  test('npm start does not recompile a built checkout (scripts/ensure-built.mjs is a few stat calls)', () => {
    const stamp = join(checkoutRoot, 'dist', '.tsbuildinfo');
    const before = statSync(stamp).mtimeMs;
    const t0 = performance.now();
    execFileSync(process.execPath, [join(checkoutRoot, 'scripts', 'ensure-built.mjs')], { stdio: 'pipe' });
    const ms = performance.now() - t0;
    assert.equal(statSync(stamp).mtimeMs, before, 'it rebuilt');
    assert.ok(ms < 1500, `the check took ${ms.toFixed(0)} ms`);
  });

  test('npm pack contains dist/; a global install from it gives warren, warrenctl and warren-perf', { timeout: 180_000 }, async () => {
    const packDir = tmp('pack');
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: checkoutRoot, encoding: 'utf8', env: { ...process.env, npm_config_ignore_scripts: 'true' } });
    const [info] = JSON.parse(out) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const paths = new Set(info!.files.map((f) => f.path));
    for (const p of ['dist/src/cli/warren.js', 'dist/src/cli/warrenctl.js', 'dist/src/cli/warren-perf.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'packaging/warren.service', 'README.md']) {
      assert.ok(paths.has(p), `${p} not in the tarball`);
    }
    assert.ok(![...paths].some((p) => p.startsWith('dist/test/') || p.startsWith('src/')), 'tests or TypeScript sources shipped');
    const prefix = tmp('global');
    execFileSync('npm', ['install', '--global', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, join(packDir, info!.filename)], { encoding: 'utf8', stdio: 'pipe' });
    const bin = (name: string) => join(prefix, 'bin', name);
    assert.match(execFileSync(bin('warren'), ['--version'], { encoding: 'utf8' }), /^\d+\.\d+\.\d+/);
    assert.match(execFileSync(bin('warrenctl'), ['--help'], { encoding: 'utf8' }), /list_queues/);
    const perf = spawnSync(bin('warren-perf'), ['--help'], { encoding: 'utf8' });
    assert.equal(perf.status, 0, perf.stderr);
    assert.match(perf.stdout, /warren-perf/);
    // The installed broker starts and serves a client.
    const port = await freePort();
    const p = CliProcess.command(bin('warren'), ['--port', String(port), '--bind', '127.0.0.1', '--management-port', '0', '--prometheus-port', '0', '--data-dir', tmp('global-data')]);
    procs.push(p);
    assert.equal((await p.listening(10_000)).port, port);
    const conn = await connect(`amqp://guest:guest@127.0.0.1:${port}/%2F`);
    await (await channel(conn)).checkExchange('amq.direct');
    await conn.close();
  });
});
