import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BuiltinEmbedder } from '../../src/embed/builtin.ts';
import type { Embedder } from '../../src/embed/types.ts';
import { formatSummary, ingestPaths } from '../../src/ingest/pipeline.ts';
import { LocalStorage } from '../../src/store/local-storage.ts';
import { LocalStore } from '../../src/store/local-store.ts';
import { binaryGarbage } from '../helpers/fixtures.ts';
import { cliPath, runCli } from '../helpers/child-process.ts';
import { documentCount } from '../helpers/knowledge-base.ts';
import { temporaryDirectory } from '../helpers/temp.ts';

const hnsw = { m: 16, efConstruction: 100, efSearch: 50 };
const chunking = { maxTokens: 120, overlapTokens: 20 };

/** The built-in embedder, counting the texts it is asked to embed. */
class CountingEmbedder implements Embedder {
  private readonly inner = new BuiltinEmbedder();
  readonly id = this.inner.id;
  readonly dimensions = this.inner.dimensions;
  readonly maxBatch = 4;
  embedded = 0;
  embedDocuments(texts: readonly string[]) {
    this.embedded += texts.length;
    return this.inner.embedDocuments(texts);
  }
  embedQuery(text: string) {
    return this.inner.embedQuery(text);
  }
}

describe('incremental ingestion', () => {
  // Regression: the same PDF under another name was indexed twice, and both copies filled the top results.
  it('reports a file whose content is already indexed as a duplicate, and indexes it once the first copy is gone', async () => {
    const root = temporaryDirectory();
    const corpus = path.join(root, 'corpus');
    mkdirSync(path.join(corpus, 'copies'), { recursive: true });
    const pdf = readFileSync('docs-corpus/manuals/cnc-lathe-hl-400-manual.pdf');
    writeFileSync(path.join(corpus, 'lathe.pdf'), pdf);
    writeFileSync(path.join(corpus, 'copies', 'lathe (1).pdf'), pdf);
    const embedder = new CountingEmbedder();
    const storage = LocalStorage.open(path.join(root, 'data'), embedder, hnsw);
    const store = storage.engine;
    const run = () => ingestPaths([corpus], { storage, embedder, chunking, baseDir: root });
    const first = await run();
    assert.equal(first.added, 1);
    assert.deepEqual(first.duplicates, [{ path: 'corpus/lathe.pdf', duplicateOf: 'corpus/copies/lathe (1).pdf' }]);
    assert.match(formatSummary(first), /1 duplicates;[\s\S]*duplicate: corpus\/lathe\.pdf \(same content as corpus\/copies\/lathe \(1\)\.pdf; not indexed again\)/);
    assert.equal(store.documentCount(), 1);
    const again = await run();
    assert.deepEqual([again.added, again.unchanged, again.duplicates.length], [0, 1, 1], 'still a duplicate on the next run');
    rmSync(path.join(corpus, 'copies'), { recursive: true });
    const afterRemoval = await run();
    assert.deepEqual([afterRemoval.added, afterRemoval.removed, afterRemoval.duplicates.length], [1, 1, 0], 'the remaining copy is indexed when the first is gone');
    assert.deepEqual(
      store.listDocuments().map((document) => document.source),
      ['corpus/lathe.pdf'],
    );
    store.close();
  });

  it('adds, skips unchanged, replaces changed and removes deleted files', async () => {
    const root = temporaryDirectory();
    const corpus = path.join(root, 'corpus');
    mkdirSync(path.join(corpus, 'sub'), { recursive: true });
    writeFileSync(path.join(corpus, 'a.md'), '# Alpha\n\nThe spindle motor overheats above 140 °C.\n');
    writeFileSync(path.join(corpus, 'sub', 'b.txt'), 'Beta\n\nReset the VPN password on the portal.\n');
    writeFileSync(path.join(corpus, 'c.html'), '<html><head><title>Gamma</title></head><body><h1>Gamma</h1><p>打印机卡纸时先关闭电源。</p></body></html>');
    writeFileSync(path.join(corpus, 'notes.xyz'), 'not a document');
    const embedder = new CountingEmbedder();
    const storage = LocalStorage.open(path.join(root, 'data'), embedder, hnsw);
    const store = storage.engine;
    const run = () => ingestPaths([corpus], { storage, embedder, chunking, baseDir: root });

    const first = await run();
    assert.deepEqual([first.added, first.updated, first.unchanged, first.removed, first.failed.length], [3, 0, 0, 0, 0]);
    assert.deepEqual(
      first.skipped.map((file) => path.basename(file)),
      ['notes.xyz'],
    );
    assert.deepEqual(
      store
        .listDocuments()
        .map((document) => document.source)
        .sort(),
      ['corpus/a.md', 'corpus/c.html', 'corpus/sub/b.txt'],
    );

    embedder.embedded = 0;
    const second = await run();
    assert.deepEqual([second.added, second.updated, second.unchanged, second.removed], [0, 0, 3, 0]);
    assert.equal(embedder.embedded, 0, 'a rerun over unchanged files embeds nothing');

    writeFileSync(path.join(corpus, 'a.md'), '# Alpha\n\nThe hydraulic pressure is low below 2.8 MPa.\n');
    rmSync(path.join(corpus, 'sub', 'b.txt'));
    const third = await run();
    assert.deepEqual([third.added, third.updated, third.unchanged, third.removed], [0, 1, 1, 1]);
    assert.equal(embedder.embedded, third.chunks);
    assert.equal(store.documentFrequencies(['vpn']).get('vpn'), 0, 'the deleted file is gone from the keyword index');
    assert.equal(store.documentFrequencies(['spindl']).get('spindl'), 0, 'the old version of the changed file is gone');
    assert.equal(store.checkConsistency().chunksWithoutVector, 0);
    assert.equal(store.checkConsistency().vectorsWithoutChunk, 0);
    store.close();
  });

  it('reports a file that cannot be parsed and goes on with the rest', async () => {
    const root = temporaryDirectory();
    writeFileSync(path.join(root, 'good.md'), '# Good\n\nUseful text.\n');
    writeFileSync(path.join(root, 'garbage.md'), binaryGarbage());
    writeFileSync(path.join(root, 'empty.txt'), '');
    // A 200 MB file (sparse on disk): refused by size before it is read.
    const huge = path.join(root, 'huge.txt');
    writeFileSync(huge, '');
    truncateSync(huge, 200 * 1024 * 1024);
    const embedder = new CountingEmbedder();
    const storage = LocalStorage.open(path.join(root, 'data'), embedder, hnsw);
    const store = storage.engine;
    const summary = await ingestPaths([root], { storage, embedder, chunking, baseDir: root });
    assert.equal(summary.added, 1);
    assert.deepEqual(
      summary.failed.map((failure) => [failure.path, /binary|empty|over the \d+-byte limit/.test(failure.reason)]),
      [
        ['empty.txt', true],
        ['garbage.md', true],
        ['huge.txt', true],
      ],
    );
    store.close();
  });

  // A server parses in a worker thread so that its event loop keeps answering queries during a job: the index must
  // come out the same, chunk ids and all, and a file's parse failure must come back as that file's reason.
  it('builds the same index with the parsing in worker threads, and reports parse failures from them', async () => {
    const root = temporaryDirectory();
    mkdirSync(path.join(root, 'docs'));
    for (const file of [
      'hr/employee-handbook-leave.md',
      'hr/员工手册-休假制度.md',
      'hr/workplace-safety-rules.html',
      'manuals/cnc-lathe-hl-400-manual.pdf',
      'manuals/注塑机-IM-160-操作手册.pdf',
      'manuals/forklift-fl-25-manual.docx',
    ]) {
      writeFileSync(path.join(root, 'docs', path.basename(file)), readFileSync(path.join('docs-corpus', file)));
    }
    writeFileSync(path.join(root, 'docs', 'broken.pdf'), readFileSync('docs-corpus/manuals/cnc-lathe-hl-400-manual.pdf').subarray(0, 2000));
    const results = [];
    for (const threads of [0, 2]) {
      const embedder = new BuiltinEmbedder();
      const storage = LocalStorage.open(path.join(root, `data-${threads}`), embedder, { ...hnsw, vectors: 'none' });
      const store = storage.engine;
      const summary = await ingestPaths([path.join(root, 'docs')], { storage, embedder, chunking, baseDir: root, threads });
      const ids = [...store.chunkIds()];
      results.push({
        added: summary.added,
        failed: summary.failed.map((failure) => [failure.path, /PDF/.test(failure.reason)]),
        chunks: [...store.getChunks(ids).values()].map((chunk) => [chunk.id, chunk.source, chunk.text]),
        ranking: store.keywordSearch(
          new Map([
            ['leav', 1],
            ['spindl', 1],
            ['锁模', 1],
            ['年假', 1],
          ]),
          { k1: 0.9, b: 0.4 },
          10,
        ),
      });
      store.close();
    }
    assert.deepEqual(results[1], results[0]);
    assert.equal(results[0]!.added, 6);
    assert.deepEqual(results[0]!.failed, [['docs/broken.pdf', true]]);
    assert.ok(results[0]!.ranking.length >= 3);
  });
});

describe('ingest command', () => {
  it('prints a summary, lists failures with their reason and exits non-zero only when a file failed', () => {
    const root = temporaryDirectory();
    const corpus = path.join(root, 'docs');
    mkdirSync(corpus);
    writeFileSync(path.join(corpus, 'a.md'), '# A\n\nText about compressors.\n');
    const environment = { KB_DATA_DIR: path.join(root, 'data') };
    const ok = runCli(['ingest', corpus], environment);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /ingest: 1 added, 0 updated, 0 unchanged, 0 removed, 0 failed, 0 skipped, 0 duplicates; \d+ chunks written/);
    writeFileSync(path.join(corpus, 'broken.pdf'), '%PDF-1.7 garbage');
    const failed = runCli(['ingest', corpus], environment);
    assert.equal(failed.status, 1);
    assert.match(failed.stdout, /0 added, 0 updated, 1 unchanged, 0 removed, 1 failed/);
    assert.match(failed.stderr, /failed: .*broken\.pdf: the PDF/);
  });

  it('explains an index built by another embedder and how to rebuild it', () => {
    const root = temporaryDirectory();
    writeFileSync(path.join(root, 'manifest.json'), JSON.stringify({ formatVersion: 1, embedderId: 'transformers:x:384', dimensions: 384, createdAt: '' }));
    const result = runCli(['ingest', root], { KB_DATA_DIR: root });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /was built with transformers:x:384.*Rebuild it/);
  });

  // Regression: an index built with one Chinese tokenizer and opened with another reported "unchanged" and searched
  // with mismatched terms.
  it('refuses an index built with another Chinese tokenizer, naming both and how to fix it', () => {
    const dataDir = temporaryDirectory();
    const folder = temporaryDirectory();
    writeFileSync(path.join(folder, 'a.txt'), '设备点检\n\n锁模力每周点检一次。\n');
    assert.equal(runCli(['ingest', folder], { KB_DATA_DIR: dataDir }).status, 0);
    assert.equal(JSON.parse(readFileSync(path.join(dataDir, 'manifest.json'), 'utf8')).cjkTokenizer, 'bigram');
    const other = runCli(['ingest', folder], { KB_DATA_DIR: dataDir, KB_CJK_TOKENIZER: 'segmenter' });
    assert.equal(other.status, 2);
    assert.match(other.stderr, /built with the "bigram" Chinese tokenizer, but KB_CJK_TOKENIZER is "segmenter".*Set KB_CJK_TOKENIZER=bigram, or rebuild/);
    assert.equal(runCli(['ingest', folder], { KB_DATA_DIR: dataDir }).status, 0, 'the same tokenizer opens it');
  });

  it('rejects invalid settings with the variable name', () => {
    const result = runCli(['ingest'], { KB_CHUNK_TOKENS: 'many' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /KB_CHUNK_TOKENS/);
  });
});

describe('crash safety', () => {
  it('leaves a consistent index when the ingest process is killed at any moment, and a rerun completes', async () => {
    const root = temporaryDirectory();
    const corpus = path.join(root, 'corpus');
    mkdirSync(corpus);
    const files = 400;
    for (let index = 0; index < files; index++) {
      const paragraphs = Array.from(
        { length: 6 },
        (_, paragraph) => `Section ${paragraph} of document ${index}: machine M-${index} needs torque ${index + paragraph} N·m and inspection every ${paragraph + 1} weeks.`,
      );
      writeFileSync(path.join(corpus, `doc-${String(index).padStart(3, '0')}.md`), `# Document ${index}\n\n${paragraphs.join('\n\n')}\n`);
    }
    const dataDir = path.join(root, 'data');
    const environment = { ...process.env, KB_DATA_DIR: dataDir, KB_CHUNK_TOKENS: '60', KB_CHUNK_OVERLAP: '10' };
    const embedder = new BuiltinEmbedder();
    // Kill points by progress, not by time (machines differ in speed): the parent watches the document count in the
    // database (WAL allows a concurrent reader) and kills the writer as soon as it passes each mark.
    const marks = [20, 90, 170, 260, 340];
    let lastCount = -1;
    for (const mark of marks) {
      const child = spawn(process.execPath, ['--import', 'tsx', cliPath, 'ingest', corpus], { env: environment, stdio: 'ignore' });
      let exitedEarly = false;
      const exited = new Promise((resolve) => child.on('exit', () => resolve((exitedEarly = true))));
      const deadline = Date.now() + 60_000;
      while (!exitedEarly && Date.now() < deadline && documentCount(dataDir) < mark) await new Promise((resolve) => setTimeout(resolve, 3));
      child.kill('SIGKILL');
      await exited;
      const delay = mark;
      const store = LocalStore.open(dataDir, embedder, { m: 16, efConstruction: 200, efSearch: 100 });
      const report = store.checkConsistency();
      store.close();
      assert.deepEqual(
        {
          chunksWithoutVector: report.chunksWithoutVector,
          vectorsWithoutChunk: report.vectorsWithoutChunk,
          documentsWithWrongChunkCount: report.documentsWithWrongChunkCount,
          orphanPostings: report.orphanPostings,
        },
        { chunksWithoutVector: 0, vectorsWithoutChunk: 0, documentsWithWrongChunkCount: 0, orphanPostings: 0 },
        `after a kill past ${delay} documents`,
      );
      assert.ok(report.documents >= lastCount, 'work done before a kill is kept');
      lastCount = report.documents;
    }
    const final = runCli(['ingest', corpus], { KB_DATA_DIR: dataDir, KB_CHUNK_TOKENS: '60', KB_CHUNK_OVERLAP: '10' });
    assert.equal(final.status, 0, final.stderr);
    const store = LocalStore.open(dataDir, embedder, { m: 16, efConstruction: 200, efSearch: 100 });
    const report = store.checkConsistency();
    store.close();
    assert.equal(report.documents, files);
    assert.equal(report.chunksWithoutVector + report.vectorsWithoutChunk + report.documentsWithWrongChunkCount, 0);
    assert.ok(lastCount > 0 && lastCount < files, `the kills should land mid-run (documents after the last kill: ${lastCount})`);
  });
});
