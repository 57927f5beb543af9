// Scanned PDFs and pictures of text (PNG, JPEG, multi-page TIFF), generated here from known text and made to look
// scanned (src/evaluation/synthetic-scans.ts), read by OCR, indexed, and answered from with the right page, marked
// as OCR in the citation. The OCR limits (page budget, time limit) leave out pages with a warning, never the file.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { multiPageTiff, scannedPage, scannedPdf } from '../../src/evaluation/synthetic-scans.ts';
import { characterAccuracy } from '../../src/evaluation/ocr.ts';
import { closeOcr, pageTextOf } from '../../src/ingest/ocr/ocr.ts';
import { pageList } from '../../src/ingest/ocr/scanned-pages.ts';
import { parseFile } from '../../src/ingest/parsers/index.ts';
import type { IngestProgress, IngestSummary } from '../../src/ingest/pipeline.ts';
import { KnowledgeBase } from '../../src/knowledge-base.ts';
import { READ_EVERYTHING } from '../../src/retrieve/read-scope.ts';
import type { FastifyInstance } from 'fastify';
import type { Job } from '../../src/jobs/types.ts';
import { KeyStore } from '../../src/keys/key-store.ts';
import { buildApp } from '../../src/server/app.ts';
import { testConfig } from '../helpers/knowledge-base.ts';
import { silentLogger, temporaryDirectory } from '../helpers/temp.ts';

const hydraulics = ['3.2 液压站故障代码', '', '故障代码 H-42 表示液压油温度过高，应立即停机并检查冷却风扇。', '故障代码 H-43 表示液压油位过低，请补充 46 号抗磨液压油。'];
const conveyor = ['4 Conveyor belt tension', '', 'Belt tension on conveyor CV-7 must be checked every 250 operating hours.', 'Set the tension so that the belt deflects 15 mm under a 5 kg load.'];
const boiler = ['Boiler room access', '', 'Only staff with a valid permit card may enter boiler room B-12 after 18:00.'];
const warehouse = ['仓库消防规定', '', '仓库内严禁使用明火，严禁吸烟。'];
const extinguishers = ['灭火器检查', '', '灭火器每月检查一次，压力表指针应在绿色区域内。'];

describe('OCR: scanned PDFs and images', () => {
  let knowledgeBase: KnowledgeBase;
  let folder: string;
  let summary: IngestSummary;
  const progress: IngestProgress[] = [];
  let tiff: Buffer;

  before(async () => {
    folder = temporaryDirectory();
    const pages = await Promise.all([scannedPage(hydraulics), scannedPage(conveyor, { skew: -1 }), scannedPage(boiler, { quality: 'png' }), scannedPage(warehouse), scannedPage(extinguishers)]);
    writeFileSync(path.join(folder, 'hydraulics-scan.pdf'), await scannedPdf([pages[0]!, pages[1]!]));
    writeFileSync(path.join(folder, 'boiler-notice.png'), pages[2]!);
    tiff = await multiPageTiff([pages[3]!, pages[4]!]);
    writeFileSync(path.join(folder, '仓库消防.tiff'), tiff);
    knowledgeBase = await KnowledgeBase.open(testConfig({ KB_DATA_DIR: temporaryDirectory() }), silentLogger);
    // One parser thread, as a server runs jobs: the OCR progress crosses from it to the caller.
    summary = await knowledgeBase.ingest([folder], { baseDir: folder, threads: 1, onProgress: (entry) => progress.push(entry) });
  });

  after(async () => {
    await knowledgeBase?.close();
    closeOcr();
  });

  it('indexes a scanned PDF, a PNG and a two-page TIFF, page by page, telling OCR progress per page', () => {
    assert.deepEqual([summary.added, summary.failed, summary.warnings], [3, [], []]);
    const ocrSteps = (file: string) => progress.filter((entry) => entry.file === file && entry.ocrPagesTotal !== undefined).map((entry) => `${entry.ocrPages}/${entry.ocrPagesTotal}`);
    assert.deepEqual(ocrSteps('hydraulics-scan.pdf'), ['0/2', '1/2', '2/2']);
    assert.deepEqual(ocrSteps('仓库消防.tiff'), ['0/2', '1/2', '2/2']);
  });

  for (const [question, source, page, expected] of [
    ['故障代码 H-42 是什么意思？', 'hydraulics-scan.pdf', 1, /液压油温度过高/],
    ['How often must the belt tension on conveyor CV-7 be checked?', 'hydraulics-scan.pdf', 2, /250 operating hours/],
    ['Who may enter boiler room B-12 after 18:00?', 'boiler-notice.png', 1, /valid permit card/],
    ['灭火器多久检查一次？', '仓库消防.tiff', 2, /每月检查一次/],
  ] as const) {
    it(`answers "${question}" from ${source}, page ${page}, cited as read by OCR`, async () => {
      const result = await knowledgeBase.ask({ question, scope: READ_EVERYTHING });
      assert.equal(result.answerable, true, result.answer);
      assert.match(result.answer, expected);
      const citation = result.citations.find((entry) => entry.source === source);
      assert.ok(citation, JSON.stringify(result.citations));
      assert.equal(citation.page, page);
      assert.equal(citation.ocr, true);
    });
  }

  it("keeps an English scan's words apart and a heading as a heading", async () => {
    const chunks = await knowledgeBase.storage.documents.documentChunks('hydraulics-scan.pdf');
    const second = chunks.find((chunk) => chunk.page === 2)!;
    assert.deepEqual(second.headings, ['4 Conveyor belt tension']);
    assert.ok(characterAccuracy(conveyor.slice(2).join(' '), second.text) > 0.97, second.text);
    assert.match(second.text, /must be checked every 250 operating hours/);
    assert.ok(chunks.every((chunk) => chunk.ocr === true));
    // A scan's first line is its title, and when it is short and not a numbered heading it is not repeated in the
    // text (a numbered one, 3.2 …, stays in the text as the heading it is).
    const documents = await knowledgeBase.storage.documents.listDocuments();
    assert.deepEqual(
      documents.map((document) => document.title),
      ['Boiler room access', '3.2液压站故障代码', '仓库消防规定'],
    );
    assert.deepEqual(chunks.find((chunk) => chunk.page === 1)?.headings, ['3.2液压站故障代码']);
    assert.deepEqual(
      (await knowledgeBase.storage.documents.documentChunks('boiler-notice.png')).map((chunk) => chunk.text),
      ['Only staff with a valid permit card may enter boiler room B-12 after 18:00.'],
    );
  });

  it('leaves pages past the page budget or the time limit out, and says which', async () => {
    const budgeted = await parseFile({ path: 'fire.tiff', bytes: tiff }, { ocr: { maxPages: 1, fileSeconds: 600 } });
    assert.deepEqual(
      budgeted.sections.map((section) => section.page),
      [1],
    );
    assert.deepEqual(budgeted.warnings, ['page 2 was not read: over the OCR page budget (KB_OCR_MAX_PAGES=1)']);
    // A time limit shorter than any page: nothing is read, and the file fails with the reason (the rest go on).
    await assert.rejects(
      parseFile({ path: 'fire.tiff', bytes: tiff }, { ocr: { maxPages: 10, fileSeconds: 0.05 } }),
      /no text was read: pages 1–2 were not read: the file's OCR time \(KB_OCR_FILE_SECONDS=0.05\) ran out/,
    );
    await assert.rejects(parseFile({ path: 'off.png', bytes: tiff }, { ocr: { maxPages: 0, fileSeconds: 600 } }), /OCR is turned off/);
  });

  it('refuses an image that cannot be decoded, and a file named .png that is something else', async () => {
    const broken = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 7)]);
    await assert.rejects(parseFile({ path: 'broken.png', bytes: broken }), /the image cannot be decoded/);
    await assert.rejects(parseFile({ path: 'notes.png', bytes: Buffer.from('just some text') }), /the content is not a PNG, JPEG or TIFF file/);
  });
});

describe('OCR over HTTP: an upload job with a scan', () => {
  let app: FastifyInstance;
  let base: string;
  let admin: string;

  before(async () => {
    const dataDir = temporaryDirectory();
    const keys = new KeyStore(dataDir);
    admin = keys.create({ scope: 'admin' }).key;
    const config = testConfig({ KB_DATA_DIR: dataDir, KB_OCR_MAX_PAGES: '1', KB_RATE_LIMIT_PER_MINUTE: '100000' });
    app = await buildApp({ config, knowledgeBase: await KnowledgeBase.open(config, silentLogger), keys });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app?.close();
    closeOcr();
  });

  it('shows OCR page progress while the job runs, the pages left out by the budget, and OCR on the search results', async () => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(await scannedPdf([await scannedPage(conveyor), await scannedPage(hydraulics)]))]), 'conveyor-scan.pdf');
    form.append('file', new Blob([new Uint8Array(await scannedPage(boiler, { quality: 'png' }))]), 'boiler-notice.png');
    const response = await fetch(`${base}/v1/collections/default/documents`, { method: 'POST', headers: { authorization: `Bearer ${admin}` }, body: form });
    assert.equal(response.status, 202, await response.clone().text());
    const { job } = (await response.json()) as { job: Job };
    const seen = new Set<string>();
    let current: Job = job;
    for (let attempt = 0; attempt < 2400 && current.state !== 'succeeded' && current.state !== 'failed'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      current = (await (await fetch(`${base}/v1/jobs/${job.id}`, { headers: { authorization: `Bearer ${admin}` } })).json()) as Job;
      if (current.progress.ocr) seen.add(`${current.progress.ocr.file} ${current.progress.ocr.pages}/${current.progress.ocr.total}`);
    }
    assert.equal(current.state, 'succeeded', JSON.stringify(current));
    assert.ok(
      [...seen].some((entry) => entry.startsWith('conveyor-scan.pdf ') && entry.endsWith('/1')),
      [...seen].join(', '),
    );
    assert.equal(current.progress.ocr, undefined, 'no OCR progress once the job is done');
    assert.deepEqual(
      current.files.map((file) => [file.name, file.status, file.warning]),
      [
        ['conveyor-scan.pdf', 'added', 'page 2 was not read: over the OCR page budget (KB_OCR_MAX_PAGES=1)'],
        ['boiler-notice.png', 'added', undefined],
      ],
    );
    const search = (await (
      await fetch(`${base}/v1/search`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'boiler room B-12 permit card' }),
      })
    ).json()) as { results: { source: string; ocr?: boolean; documentId: string }[] };
    const top = search.results[0]!;
    assert.deepEqual([top.source, top.ocr], ['boiler-notice.png', true]);
    const original = await fetch(`${base}/v1/collections/default/documents/${top.documentId}/file`, { headers: { authorization: `Bearer ${admin}` } });
    assert.equal(original.status, 200);
    assert.equal(original.headers.get('content-type'), 'image/png');
  });
});

describe('OCR page layout', () => {
  const run = (text: string, left: number, top: number, width = 200, height = 30) => ({ text, confidence: 0.99, left, top, width, height });

  it('joins runs of one line left to right, and starts a paragraph at a wide gap', () => {
    const text = pageTextOf([run('tension', 320, 102), run('Belt', 100, 100), run('Second line', 100, 140), run('New paragraph', 100, 230)]);
    assert.equal(text, 'Belt tension\nSecond line\n\nNew paragraph');
  });

  it('names pages as ranges', () => {
    assert.equal(pageList([4]), 'page 4');
    assert.equal(pageList([2, 3, 4, 5, 9, 11, 12]), 'pages 2–5, 9, 11–12');
  });
});
