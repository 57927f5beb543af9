import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BuiltinEmbedder } from '../../src/embed/builtin.ts';
import { KeyStore } from '../../src/keys/key-store.ts';
import { LocalStore } from '../../src/store/local-store.ts';
import { runCli, startServer } from '../helpers/child-process.ts';
import { temporaryDirectory } from '../helpers/temp.ts';

/** Every file under a folder with its SHA-256, to show that nothing was touched. */
function snapshot(directory: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(directory, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    files[path.relative(directory, file)] = createHash('sha256').update(readFileSync(file)).digest('hex');
  }
  return files;
}

/** chmod -R: folders 0555 and files 0444 when read-only, 0755 and 0644 otherwise. */
function setReadOnly(directory: string, readOnly: boolean): void {
  chmodSync(directory, readOnly ? 0o555 : 0o755);
  for (const entry of readdirSync(directory, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name);
    chmodSync(file, statSync(file).isDirectory() ? (readOnly ? 0o555 : 0o755) : readOnly ? 0o444 : 0o644);
  }
}

function assertConsistent(dataDir: string, documents: number): void {
  const store = LocalStore.open(dataDir, new BuiltinEmbedder(), { m: 16, efConstruction: 200, efSearch: 100 });
  const report = store.checkConsistency();
  store.close();
  assert.equal(report.documents, documents);
  assert.deepEqual([report.chunksWithoutVector, report.vectorsWithoutChunk, report.documentsWithWrongChunkCount, report.orphanPostings], [0, 0, 0, 0]);
}

describe('a read-only data directory', () => {
  it('refuses ingestion and start-up with a clear error, and changes nothing', () => {
    const dataDir = path.join(temporaryDirectory(), 'data');
    const environment = { KB_DATA_DIR: dataDir };
    assert.equal(runCli(['ingest', 'docs-corpus/it'], environment).status, 0);
    const before = snapshot(dataDir);
    setReadOnly(dataDir, true);
    try {
      const ingest = runCli(['ingest', 'docs-corpus/hr'], environment, { boundByFileModes: true });
      assert.equal(ingest.status, 2, ingest.stderr);
      assert.match(ingest.stderr, new RegExp(`The data directory ${dataDir} cannot be written .*Make it writable; nothing was changed\\. \\(KB_ERR_STORAGE_READ_ONLY\\)`));
      const serve = runCli(['serve'], { ...environment, PORT: '0' }, { boundByFileModes: true });
      assert.notEqual(serve.status, 0);
      assert.match(serve.stderr, /cannot be written .*KB_ERR_STORAGE_READ_ONLY/);
      assert.deepEqual(snapshot(dataDir), before);
    } finally {
      setReadOnly(dataDir, false);
    }
    assertConsistent(dataDir, 7);
    assert.equal(runCli(['ingest', 'docs-corpus/hr'], environment).status, 0);
  });

  it('keeps a running server answering when its folder turns read-only, and uploads fail with a clear error', async () => {
    const dataDir = path.join(temporaryDirectory(), 'data');
    assert.equal(runCli(['ingest', 'docs-corpus/it'], { KB_DATA_DIR: dataDir }).status, 0);
    const admin = new KeyStore(dataDir).create({ scope: 'admin' }).key;
    const server = await startServer({ KB_DATA_DIR: dataDir }, { boundByFileModes: true });
    const headers = { authorization: `Bearer ${admin}` };
    const post = (url: string, body: unknown) => fetch(server.url + url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const upload = async () => {
      const response = await post('/v1/collections/default/documents', { title: 'Printer jams', text: 'Open tray 2 and pull the jammed sheet out gently.' });
      const body = (await response.json()) as { job?: { id: string }; error?: { code: string; message: string } };
      if (!body.job) return { status: response.status, body };
      for (;;) {
        const job = (await (await fetch(`${server.url}/v1/jobs/${body.job.id}`, { headers })).json()) as { state: string; error?: string; files: { error?: string }[] };
        if (job.state === 'succeeded' || job.state === 'failed') return { status: response.status, body, job };
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    try {
      setReadOnly(dataDir, true);
      const search = await post('/v1/search', { query: 'VPN session length' });
      assert.equal(search.status, 200);
      assert.ok(((await search.json()) as { results: unknown[] }).results.length > 0);
      const ask = await post('/v1/ask', { question: 'How long can a VPN session last?' });
      assert.equal(ask.status, 200);
      assert.equal(((await ask.json()) as { answerable: boolean }).answerable, true);
      const refused = await upload();
      assert.equal(refused.status, 503, JSON.stringify(refused));
      assert.equal(refused.body.error?.code, 'KB_ERR_STORAGE_READ_ONLY');
      assert.match(refused.body.error?.message ?? '', /cannot be written/);
      setReadOnly(dataDir, false);
      const accepted = await upload();
      assert.equal(accepted.job?.state, 'succeeded', JSON.stringify(accepted));
    } finally {
      setReadOnly(dataDir, false);
      server.child.kill('SIGTERM');
      await server.exited;
    }
    assertConsistent(dataDir, 8);
  });
});
