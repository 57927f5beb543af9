// Temporary folders that remove themselves after the test file.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';

export function temporaryDirectory(prefix = 'kb-test-'): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), prefix));
  after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

export const silentLogger = { info: () => {}, warn: () => {} };
