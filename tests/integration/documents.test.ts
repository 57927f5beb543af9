import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.ts';
import { LocalJobQueue, type Job } from '../../src/jobs/jobs.ts';
import { KeyStore } from '../../src/keys/key-store.ts';
import { KnowledgeBase } from '../../src/knowledge-base.ts';
import { buildApp } from '../../src/server/app.ts';
import { binaryGarbage } from '../helpers/fixtures.ts';
import { testConfig } from '../helpers/knowledge-base.ts';
import { silentLogger, temporaryDirectory } from '../helpers/temp.ts';

describe('documents over HTTP', () => {
  let app: FastifyInstance;
  let base: string;
  let admin: string;
  let query: string;

  before(async () => {
    const dataDir = temporaryDirectory();
    const keys = new KeyStore(dataDir);
    admin = keys.create({ scope: 'admin' }).key;
    query = keys.create({ scope: 'query' }).key;
    const config = testConfig({ KB_DATA_DIR: dataDir, KB_UPLOAD_MAX_BYTES: String(200 * 1024), KB_RATE_LIMIT_PER_MINUTE: '10000' });
    const knowledgeBase = await KnowledgeBase.open(config, silentLogger);
    app = await buildApp({ config, knowledgeBase, keys });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => app.close());

  const headers = (key = admin) => ({ authorization: `Bearer ${key}` });
  const upload = (files: { name: string; bytes: Buffer | string }[], key = admin) => {
    const form = new FormData();
    for (const file of files) form.append('file', new Blob([typeof file.bytes === 'string' ? file.bytes : new Uint8Array(file.bytes)]), file.name);
    return fetch(`${base}/v1/collections/default/documents`, { method: 'POST', headers: headers(key), body: form });
  };
  async function finished(response: Response): Promise<Job> {
    assert.equal(response.status, 202, await response.clone().text());
    const { job } = (await response.json()) as { job: Job };
    assert.equal(response.headers.get('location'), `/v1/jobs/${job.id}`);
    for (let attempt = 0; attempt < 400; attempt++) {
      const current = (await (await fetch(`${base}/v1/jobs/${job.id}`, { headers: headers() })).json()) as Job;
      if (current.state === 'succeeded' || current.state === 'failed') return current;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.fail('the job did not finish');
  }
  const search = async (text: string) =>
    (
      (await (await fetch(`${base}/v1/search`, { method: 'POST', headers: { ...headers(query), 'content-type': 'application/json' }, body: JSON.stringify({ query: text }) })).json()) as {
        results: { source: string; documentId: string }[];
      }
    ).results;

  it('ingests uploaded files in a background job and serves them', async () => {
    const job = await finished(
      await upload([
        { name: 'lathe.pdf', bytes: readFileSync('docs-corpus/manuals/cnc-lathe-hl-400-manual.pdf') },
        { name: 'VPN使用指南.md', bytes: readFileSync('docs-corpus/it/VPN使用指南.md') },
      ]),
    );
    assert.equal(job.state, 'succeeded');
    assert.deepEqual(
      job.files.map((file) => [file.name, file.status]),
      [
        ['lathe.pdf', 'added'],
        ['VPN使用指南.md', 'added'],
      ],
    );
    assert.deepEqual(job.progress, { done: 2, total: 2 });
    assert.equal((await search('spindle encoder E-104'))[0]?.source, 'lathe.pdf');
    const listed = (await (await fetch(`${base}/v1/collections/default/documents?limit=1`, { headers: headers() })).json()) as { total: number; documents: { id: string; chunkCount: number }[] };
    assert.equal(listed.total, 2);
    assert.equal(listed.documents.length, 1);
    const one = await fetch(`${base}/v1/collections/default/documents/${listed.documents[0]!.id}`, { headers: headers() });
    assert.equal(((await one.json()) as { chunkCount: number }).chunkCount, listed.documents[0]!.chunkCount);
    const again = await finished(await upload([{ name: 'lathe.pdf', bytes: readFileSync('docs-corpus/manuals/cnc-lathe-hl-400-manual.pdf') }]));
    assert.equal(again.files[0]?.status, 'unchanged');
    // Regression: the same PDF under another name was indexed a second time.
    const renamed = await finished(await upload([{ name: 'HL-400 manual (copy).pdf', bytes: readFileSync('docs-corpus/manuals/cnc-lathe-hl-400-manual.pdf') }]));
    assert.deepEqual([renamed.files[0]?.status, (renamed.files[0] as { duplicateOf?: string }).duplicateOf], ['duplicate', 'lathe.pdf']);
    assert.deepEqual(
      (await search('spindle encoder E-104'))
        .filter((result) => result.source.endsWith('.pdf'))
        .map((result) => result.source)
        .filter((source, index, all) => all.indexOf(source) === index),
      ['lathe.pdf'],
    );
  });

  // Regression: there was no way to open a cited original; the widget's source card linked nowhere without a URL.
  it("serves a cited original through the citation's signed fileUrl, and to readers allowed to read it", async () => {
    const asked = (await (
      await fetch(`${base}/v1/ask`, { method: 'POST', headers: { ...headers(query), 'content-type': 'application/json' }, body: JSON.stringify({ question: 'What does fault code E-104 mean?' }) })
    ).json()) as { citations: { source: string; documentId: string; fileUrl?: string }[] };
    const citation = asked.citations.find((item) => item.source === 'lathe.pdf')!;
    assert.match(citation.fileUrl ?? '', /^\/v1\/collections\/default\/documents\/[0-9a-f]{16}\/file\?expires=\d+&signature=[\w-]+$/);
    const opened = await fetch(base + citation.fileUrl);
    assert.equal(opened.status, 200, 'a signed link opens without a key (a browser tab)');
    assert.equal(opened.headers.get('content-type'), 'application/pdf');
    assert.match(opened.headers.get('content-disposition') ?? '', /^inline; filename\*=UTF-8''lathe\.pdf$/);
    assert.deepEqual(Buffer.from(await opened.arrayBuffer()), readFileSync('docs-corpus/manuals/cnc-lathe-hl-400-manual.pdf'));
    const tampered = citation.fileUrl!.replace(/signature=./, (match) => match.slice(0, -1) + (match.endsWith('A') ? 'B' : 'A'));
    assert.equal((await fetch(base + tampered)).status, 401, 'a wrong signature is no link at all');
    const expired = citation.fileUrl!.replace(/expires=\d+/, 'expires=1000');
    assert.equal((await fetch(base + expired)).status, 401);
    const plain = `/v1/collections/default/documents/${citation.documentId}/file`;
    assert.equal((await fetch(base + plain)).status, 401);
    assert.equal((await fetch(base + plain, { headers: headers(query) })).status, 200, 'a key that may read the document opens it');
    // A document restricted to a group: not to a key outside it, signed link or not.
    const form = new FormData();
    form.append('metadata', JSON.stringify({ groups: ['hr'] }));
    form.append('file', new Blob(['Salary bands\n\nBand S3 pays 9,000 to 12,000 a month.\n']), 'salary.txt');
    const job = await finished(await fetch(`${base}/v1/collections/default/documents`, { method: 'POST', headers: headers(), body: form }));
    assert.equal(job.files[0]?.status, 'added');
    const listed = (await (await fetch(`${base}/v1/collections/default/documents?limit=500`, { headers: headers() })).json()) as { documents: { id: string; source: string }[] };
    const salary = listed.documents.find((document) => document.source === 'salary.txt')!;
    assert.equal((await fetch(`${base}/v1/collections/default/documents/${salary.id}/file`, { headers: headers(query) })).status, 404);
    const forAdmin = await fetch(`${base}/v1/collections/default/documents/${salary.id}/file`, { headers: headers() });
    assert.equal(forAdmin.status, 200);
    assert.equal(forAdmin.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.match(await forAdmin.text(), /Band S3/);
    assert.equal((await fetch(`${base}/v1/collections/default/documents/${salary.id}`, { method: 'DELETE', headers: headers() })).status, 204);
    assert.equal((await fetch(`${base}/v1/collections/default/documents/${salary.id}/file`, { headers: headers() })).status, 404, 'a deleted document has no file');
  });

  it('accepts text as JSON, deletes documents for real, and reindexes', async () => {
    const job = await finished(
      await fetch(`${base}/v1/collections/default/documents`, {
        method: 'POST',
        headers: { ...headers(), 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Canteen hours', text: 'The canteen opens at 11:30 and closes at 13:30. 食堂中午 11:30 开饭。' }),
      }),
    );
    assert.equal(job.files[0]?.status, 'added');
    const hit = (await search('canteen opens'))[0];
    assert.equal(hit?.source, 'Canteen hours.txt');
    const removed = await fetch(`${base}/v1/collections/default/documents/${hit!.documentId}`, { method: 'DELETE', headers: headers() });
    assert.equal(removed.status, 204);
    assert.ok(!(await search('canteen opens')).some((result) => result.source === 'Canteen hours.txt'));
    assert.equal((await fetch(`${base}/v1/collections/default/documents/${hit!.documentId}`, { method: 'DELETE', headers: headers() })).status, 404);
    const reindex = await finished(await fetch(`${base}/v1/collections/default/reindex`, { method: 'POST', headers: headers() }));
    assert.deepEqual(reindex.files.map((file) => file.status).sort(), ['updated', 'updated']);
  });

  it('refuses uploads whose content is not what their name says, too large, or not a document', async () => {
    const cases: [{ name: string; bytes: Buffer | string }, number, RegExp][] = [
      [{ name: 'notes.md', bytes: binaryGarbage() }, 415, /binary/],
      [{ name: 'manual.docx', bytes: 'plain text pretending to be Word' }, 415, /not a DOCX/],
      [{ name: 'archive.zip', bytes: 'PK' }, 415, /extension/],
      [{ name: '../../etc/passwd.md', bytes: '# x\n\nok' }, 202, /./],
      [{ name: 'big.txt', bytes: 'x '.repeat(150 * 1024) }, 413, /larger than/],
    ];
    for (const [file, status, message] of cases) {
      const response = await upload([file]);
      const body = await response.text();
      assert.equal(response.status, status, `${file.name}: ${body}`);
      assert.match(body, message);
    }
    const listed = (await (await fetch(`${base}/v1/collections/default/documents`, { headers: headers() })).json()) as { documents: { source: string }[] };
    assert.ok(
      listed.documents.every((document) => !document.source.includes('..')),
      'path traversal is neutralised to a plain file name',
    );
  });

  it('keeps document administration to admin keys and known collections and jobs', async () => {
    assert.equal((await upload([{ name: 'a.md', bytes: '# a\n\ntext' }], query)).status, 403);
    assert.equal((await fetch(`${base}/v1/collections/other/documents`, { headers: headers() })).status, 404);
    assert.equal((await fetch(`${base}/v1/jobs/00000000-0000-4000-8000-000000000000`, { headers: headers() })).status, 404);
    assert.equal((await fetch(`${base}/v1/jobs/not-a-uuid`, { headers: headers() })).status, 400);
    assert.equal((await fetch(`${base}/v1/collections/default/documents/xyz`, { headers: headers() })).status, 400);
  });

  it('uploads with a title and metadata, finds by them, shows the chunks, and reindexes keeping title and reader groups', async () => {
    const metadata = { title: 'Forklift Safety Rules', tags: ['safety', 'warehouse'], department: 'Logistics', groups: ['warehouse'] };
    const form = new FormData();
    form.append('metadata', JSON.stringify(metadata));
    const text = '# forklift notes\n\n## Charging\n\nForklift batteries charge in bay C-3 overnight.\n\n## Speed\n\nForklifts drive at walking pace inside hall 2.\n';
    form.append('file', new Blob([text]), 'forklift.md');
    const job = await finished(await fetch(`${base}/v1/collections/default/documents`, { method: 'POST', headers: headers(), body: form }));
    assert.equal(job.files[0]?.status, 'added');
    type Listed = { total: number; documents: { id: string; title: string; source: string; groups?: string[]; metadata?: { tags?: string[]; department?: string } }[] };
    const find = async (parameters: string) => (await (await fetch(`${base}/v1/collections/default/documents?${parameters}`, { headers: headers() })).json()) as Listed;
    for (const parameters of ['q=forklift', 'q=SAFETY%20rules', 'tag=warehouse', 'department=Logistics', 'group=warehouse', 'format=markdown&language=en&tag=safety']) {
      const found = await find(parameters);
      assert.deepEqual([found.total, found.documents.map((document) => document.title)], [1, ['Forklift Safety Rules']], parameters);
    }
    assert.equal((await find('tag=nothing')).total, 0);
    assert.equal((await fetch(`${base}/v1/collections/default/documents?format=exe`, { headers: headers() })).status, 400);
    const documentId = (await find('q=forklift')).documents[0]!.id;

    const chunks = (await (await fetch(`${base}/v1/collections/default/documents/${documentId}/chunks`, { headers: headers() })).json()) as {
      document: { title: string };
      chunks: { ordinal: number; text: string; headings: string[]; startOffset: number; endOffset: number }[];
    };
    assert.equal(chunks.document.title, 'Forklift Safety Rules');
    const charging = chunks.chunks.find((chunk) => chunk.text.includes('bay C-3'));
    assert.deepEqual(charging?.headings.slice(-1), ['Charging']);
    assert.ok(charging!.endOffset > charging!.startOffset);
    assert.equal((await fetch(`${base}/v1/collections/default/documents/${documentId}/chunks`, { headers: headers(query) })).status, 403);

    // Limited to the warehouse group before and after each reindex: a reindex must not open it to everyone.
    const readable = async () => (await search('forklift batteries charge bay C-3')).some((result) => result.documentId === documentId);
    assert.equal(await readable(), false);
    const one = await finished(await fetch(`${base}/v1/collections/default/documents/${documentId}/reindex`, { method: 'POST', headers: headers() }));
    assert.deepEqual(
      one.files.map((file) => [file.name, file.status]),
      [['forklift.md', 'updated']],
    );
    const all = await finished(await fetch(`${base}/v1/collections/default/reindex`, { method: 'POST', headers: headers() }));
    assert.ok(all.files.some((file) => file.name === 'forklift.md' && file.status === 'updated'));
    const after = (await find('group=warehouse')).documents[0];
    assert.deepEqual([after?.title, after?.groups, after?.metadata], ['Forklift Safety Rules', ['warehouse'], { tags: ['safety', 'warehouse'], department: 'Logistics' }]);
    assert.equal(await readable(), false);

    const two = new FormData();
    two.append('metadata', JSON.stringify({ title: 'One title' }));
    two.append('file', new Blob(['# a\n\ntext a']), 'a.md');
    two.append('file', new Blob(['# b\n\ntext b']), 'b.md');
    const refused = await fetch(`${base}/v1/collections/default/documents`, { method: 'POST', headers: headers(), body: two });
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /a title is given to one file at a time/);
    assert.equal((await find('q=a.md')).total, 0, 'nothing of a refused upload is kept');
  });

  it('lists jobs newest first, a page at a time, by state and collection', async () => {
    const list = async (query: string, key = admin) => {
      const response = await fetch(`${base}/v1/jobs${query}`, { headers: headers(key) });
      return { status: response.status, body: (await response.json()) as { jobs: Job[]; total: number } };
    };
    const all = await list('?limit=100');
    assert.equal(all.status, 200);
    assert.ok(all.body.total >= 4, `jobs so far: ${all.body.total}`);
    const created = all.body.jobs.map((job) => job.createdAt);
    assert.deepEqual(created, [...created].sort().reverse(), 'newest first');
    const second = await list('?limit=1&offset=1');
    assert.deepEqual(
      second.body.jobs.map((job) => job.id),
      [all.body.jobs[1]!.id],
    );
    assert.equal(second.body.total, all.body.total);
    assert.ok((await list('?state=succeeded&limit=100')).body.jobs.every((job) => job.state === 'succeeded'));
    assert.deepEqual((await list('?collection=elsewhere')).body, { jobs: [], total: 0 });
    assert.equal((await list('?limit=0')).status, 400);
    assert.equal((await list('?state=done')).status, 400);
    assert.equal((await list('', query)).status, 403);
  });
});

describe('job queue', () => {
  it('runs one job at a time in order, refuses beyond the queue, and reports jobs a crash cut short', async () => {
    const dataDir = temporaryDirectory();
    const queue = new LocalJobQueue(dataDir, 1);
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    queue.start(async (job) => {
      order.push(job.files[0]!.name);
      if (job.files[0]!.name === 'a') await gate;
      job.files[0]!.status = 'added';
    });
    const first = await queue.submit({ kind: 'upload', collection: 'default', files: ['a'] });
    const second = await queue.submit({ kind: 'upload', collection: 'default', files: ['b'] });
    assert.equal(queue.isFull(), true);
    await assert.rejects(queue.assertAvailable(), /busy|waiting/i);
    release();
    await queue.idle();
    assert.deepEqual(order, ['a', 'b']);
    assert.equal((await queue.get(first.id))?.state, 'succeeded');
    assert.equal((await queue.get(second.id))?.state, 'succeeded');

    // A job file left "running" by a process that died is reported as failed by the next one.
    mkdirSync(path.join(dataDir, 'jobs'), { recursive: true });
    const stale: Job = {
      id: '11111111-1111-4111-8111-111111111111',
      kind: 'upload',
      collection: 'default',
      state: 'running',
      progress: { done: 1, total: 3 },
      files: [],
      createdAt: new Date().toISOString(),
    };
    writeFileSync(path.join(dataDir, 'jobs', `${stale.id}.json`), JSON.stringify(stale));
    const restarted = new LocalJobQueue(dataDir, 1);
    assert.equal((await restarted.get(stale.id))?.state, 'failed');
    assert.match((await restarted.get(stale.id))?.error ?? '', /stopped before this job finished/);
    assert.ok(loadConfig({}).uploads.maxQueuedJobs >= 1);
  });
});
