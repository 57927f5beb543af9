// Temporary folders, removed when the test process exits. (Not with node:test's after(): called inside a before()
// hook, that runs as soon as the hook ends and would delete a folder the tests are about to use.)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const created: string[] = [];
process.on('exit', () => {
  for (const directory of created) rmSync(directory, { recursive: true, force: true });
});

export function temporaryDirectory(prefix = 'kb-test-'): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), prefix));
  created.push(directory);
  return directory;
}

export const silentLogger = { info: () => {}, warn: () => {} };
