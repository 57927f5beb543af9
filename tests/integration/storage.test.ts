import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BuiltinEmbedder } from '../../src/embed/builtin.ts';
import { KbError } from '../../src/errors.ts';
import { KnowledgeBase } from '../../src/knowledge-base.ts';
import { LocalStore } from '../../src/store/local-store.ts';
import { seededRandom } from '../../src/random.ts';
import { testConfig } from '../helpers/knowledge-base.ts';
import { silentLogger, temporaryDirectory } from '../helpers/temp.ts';

/** 40 generated documents of about 30 KB each: more than a 1 MB quota holds. */
function largeCorpus(): string {
  const folder = temporaryDirectory();
  const random = seededRandom(11);
  const words = ['spindle', 'coolant', 'pressure', 'valve', 'pump', 'filter', 'sensor', 'alarm', 'motor', 'bearing', 'belt', 'gear', 'torque', 'voltage', 'relay', 'fuse'];
  for (let file = 0; file < 40; file++) {
    const lines = Array.from({ length: 400 }, (_, line) => `Step ${line}: check the ${Array.from({ length: 8 }, () => words[Math.floor(random() * words.length)]).join(' ')} of unit ${file}-${line}.`);
    writeFileSync(path.join(folder, `manual-${file}.txt`), lines.join('\n'));
  }
  return folder;
}

// A full disk, as SQLite meets it (SQLITE_FULL), through the index size quota KB_MAX_INDEX_MB.
describe('a full data directory', () => {
  const corpus = largeCorpus();
  it('stops ingestion with a clear error, keeps every written document whole, and a rerun with room completes', async () => {
    const dataDir = temporaryDirectory();
    const full = await KnowledgeBase.open(testConfig({ KB_DATA_DIR: dataDir, KB_MAX_INDEX_MB: '1' }), silentLogger);
    await assert.rejects(
      full.ingest([corpus]),
      (error: unknown) => error instanceof KbError && error.code === 'KB_ERR_STORAGE_FULL' && /is full/.test(error.message) && /raise KB_MAX_INDEX_MB/.test(error.message),
    );
    full.close();

    const store = LocalStore.open(dataDir, new BuiltinEmbedder(), { m: 16, efConstruction: 200, efSearch: 100 });
    const report = store.checkConsistency();
    store.close();
    assert.ok(report.documents > 0 && report.documents < 40, `${report.documents} documents written before the quota`);
    assert.deepEqual([report.chunksWithoutVector, report.vectorsWithoutChunk, report.documentsWithWrongChunkCount, report.orphanPostings], [0, 0, 0, 0]);

    const roomy = await KnowledgeBase.open(testConfig({ KB_DATA_DIR: dataDir }), silentLogger);
    const summary = await roomy.ingest([corpus]);
    assert.equal(summary.added + summary.unchanged, 40);
    assert.equal((await roomy.storage.documents.listDocuments()).length, 40);
    await roomy.close();
  });

  it('makes the ingest command exit with the reason', () => {
    const result = spawnSync(process.execPath, [path.resolve('bin/kb.js'), 'ingest', corpus], { encoding: 'utf8', env: { ...process.env, KB_DATA_DIR: temporaryDirectory(), KB_MAX_INDEX_MB: '1' } });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /is full .*KB_ERR_STORAGE_FULL/s);
  });
});
