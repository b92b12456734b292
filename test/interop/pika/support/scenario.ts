// Small glue shared by the Python interop test files: assertions on a program's result and
// run-unique names (the suite may share a broker with other runs while developing).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { explain, type PythonResult } from './python.js';

export function assertSucceeded(result: PythonResult): void {
  assert.equal(result.code, 0, `python program failed\n${explain(result)}`);
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
