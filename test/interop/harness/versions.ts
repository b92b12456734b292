// Reads the version of the client library actually installed, so the
// compatibility table names what was really tested.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../support/warren-process.js';

export function npmPackageVersion(name: string): string {
  try {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
    return manifest.version;
  } catch {
    return 'not-installed';
  }
}

/** The upstream part of a Debian package's version (2.19.0-2 → 2.19.0). */
export function debianPackageVersion(name: string): string {
  try {
    const version = execFileSync('dpkg-query', ['-W', '-f', '${Version}', name], { encoding: 'utf8' });
    return version.replace(/^\d+:/, '').replace(/-[^-]+$/, '') || 'not-installed';
  } catch {
    return 'not-installed';
  }
}

/** Where a client's program sources live (never compiled into dist/). */
export function programDir(client: string): string {
  return join(repoRoot, 'test', 'interop', client);
}
