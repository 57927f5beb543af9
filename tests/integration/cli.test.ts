// The command line as an administrator uses it: what the ingest summary says about files it skips, keys with their
// collection and rate limit, documents listed and deleted, and a server started without paths that indexes nothing.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { runCli, startServer } from '../helpers/child-process.ts';
import { temporaryDirectory } from '../helpers/temp.ts';

describe('the kb command line', () => {
  // Regression: skipped files appeared only in --json; keys list did not show a key's collection; no documents command.
  it('lists skipped files in the ingest summary, shows keys with collection and rate limit, lists and deletes documents', () => {
    const dataDir = temporaryDirectory();
    const folder = temporaryDirectory();
    copyFileSync('docs-corpus/it/vpn-faq.md', path.join(folder, 'vpn-faq.md'));
    writeFileSync(path.join(folder, 'canteen.txt'), 'Canteen hours\n\nThe canteen opens at 11:30 and closes at 14:00.\n');
    writeFileSync(path.join(folder, 'training.odp'), 'PK\u0003\u0004 an OpenDocument deck');
    mkdirSync(path.join(folder, 'bin'));
    writeFileSync(path.join(folder, 'bin', 'tool'), 'binary');
    const environment = { KB_DATA_DIR: dataDir };

    const ingest = runCli(['ingest', folder], environment);
    assert.equal(ingest.status, 0, ingest.stderr);
    assert.match(ingest.stdout, /2 added, .*2 skipped, 0 duplicates/);
    assert.match(ingest.stdout, /skipped: .*training\.odp \(\.odp is not a supported format\)/);
    assert.match(ingest.stdout, /skipped: .*bin\/tool \(no file extension\)/);

    const created = runCli(['keys', 'create', '--scope', 'query', '--collection', 'hr', '--groups', 'hr,it', '--rate-limit', '120', '--json'], environment);
    assert.equal(created.status, 0, created.stderr);
    const { id } = JSON.parse(created.stdout) as { id: string };
    const listed = runCli(['keys', 'list'], environment);
    assert.match(listed.stdout, new RegExp(`${id}\\s+query\\s+active\\s+collection hr\\s+groups hr,it\\s+rate limit 120/min`));
    const badLimit = runCli(['keys', 'create', '--scope', 'query', '--rate-limit', 'lots'], environment);
    assert.equal(badLimit.status, 2);
    assert.match(badLimit.stderr, /whole number of requests per minute/);

    const documents = JSON.parse(runCli(['documents', 'list', '--json'], environment).stdout) as { id: string; source: string; chunks: number }[];
    assert.equal(documents.length, 2);
    const canteen = documents.find((document) => document.source.endsWith('canteen.txt'))!;
    assert.ok(canteen.chunks > 0);
    const human = runCli(['documents', 'list'], environment).stdout;
    assert.match(human, new RegExp(`${canteen.id}\\s+\\d+ chunks`));

    const deleted = runCli(['documents', 'delete', canteen.id], environment);
    assert.equal(deleted.status, 0, deleted.stderr);
    assert.match(deleted.stdout, /deleted/);
    assert.equal((JSON.parse(runCli(['documents', 'list', '--json'], environment).stdout) as unknown[]).length, 1);
    const missing = runCli(['documents', 'delete', canteen.id], environment);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no document with id or source/);
    const vpn = documents.find((document) => document.source.endsWith('vpn-faq.md'))!;
    assert.equal(runCli(['documents', 'delete', vpn.source], environment).status, 0, 'a document can be named by its source too');
  });

  // Regression: a document ingested from the command line could not be given a URL, tags or groups.
  it('gives documents URLs from --url-base, and titles, tags, departments and groups from --metadata and front matter', () => {
    const dataDir = temporaryDirectory();
    const folder = temporaryDirectory();
    mkdirSync(path.join(folder, 'hr'));
    writeFileSync(path.join(folder, 'hr', 'leave policy.txt'), 'Leave policy\n\nEmployees get 15 days of paid annual leave.\n');
    writeFileSync(path.join(folder, 'vpn.md'), '---\ntitle: VPN guide\ntags: [it, remote]\ndepartment: IT\nurl: https://wiki.example/vpn\n---\n# VPN\n\nError 809: switch to TCP.\n');
    const metadata = path.join(folder, '..', `metadata-${path.basename(folder)}.json`);
    writeFileSync(metadata, JSON.stringify({ defaults: { department: 'Operations' }, files: { 'hr/leave policy.txt': { title: 'Annual leave', tags: ['pay'], groups: ['hr'] } } }));
    const ingest = runCli(['ingest', folder, '--url-base', 'https://intranet.example/docs', '--metadata', metadata, '--json'], { KB_DATA_DIR: dataDir });
    assert.equal(ingest.status, 0, ingest.stderr);
    const database = new Database(path.join(dataDir, 'kb.sqlite'), { readonly: true });
    const rows = database.prepare('SELECT source, title, url, metadata, groups FROM documents ORDER BY source').all() as {
      source: string;
      title: string;
      url: string;
      metadata: string;
      groups: string | null;
    }[];
    database.close();
    // Regression: a folder outside the working directory was stored (and cited) by its absolute server path.
    assert.deepEqual(
      rows.map((row) => row.source),
      [`${path.basename(folder)}/hr/leave policy.txt`, `${path.basename(folder)}/vpn.md`],
    );
    const again = runCli(['ingest', folder, '--url-base', 'https://intranet.example/docs', '--metadata', metadata, '--json'], { KB_DATA_DIR: dataDir });
    assert.deepEqual(
      ((summary) => [summary.added, summary.unchanged, summary.removed])(JSON.parse(again.stdout) as { added: number; unchanged: number; removed: number }),
      [0, 2, 0],
      'the relative sources are stable across runs',
    );
    const leave = rows.find((row) => row.source.endsWith('leave policy.txt'))!;
    assert.deepEqual(
      [leave.title, leave.url, JSON.parse(leave.metadata), JSON.parse(leave.groups!)],
      ['Annual leave', 'https://intranet.example/docs/hr/leave%20policy.txt', { tags: ['pay'], department: 'Operations' }, ['hr']],
    );
    const vpn = rows.find((row) => row.source.endsWith('vpn.md'))!;
    // The URL base wins over the front matter's link (the administrator's word); tags and department come from the file.
    assert.deepEqual([vpn.title, vpn.url, JSON.parse(vpn.metadata)], ['VPN guide', 'https://intranet.example/docs/vpn.md', { tags: ['it', 'remote'], department: 'Operations' }]);
    writeFileSync(metadata, JSON.stringify({ files: { 'vpn.md': { url: 'not a url' } } }));
    const refused = runCli(['ingest', folder, '--metadata', metadata], { KB_DATA_DIR: dataDir });
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /metadata-.*\.json: files\.vpn\.md\.url: /);
  });

  // Regression: `start` without paths (the Docker image's command) indexed the demo corpus into the data directory.
  it('starts without paths on an empty data directory, indexing nothing and saying how to add documents', async () => {
    const dataDir = temporaryDirectory();
    const server = await startServer({ KB_DATA_DIR: dataDir }, { command: ['start'] });
    try {
      assert.match(server.output(), /knowledge base is empty: index your documents with `npm run ingest -- \/path\/to\/docs`/);
      const response = await fetch(`${server.url}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: 'What does fault code E-104 mean?' }) });
      const body = (await response.json()) as { answerable: boolean; citations: unknown[] };
      assert.equal(body.answerable, false);
      assert.deepEqual(body.citations, []);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    assert.equal((JSON.parse(runCli(['documents', 'list', '--json'], { KB_DATA_DIR: dataDir }).stdout) as unknown[]).length, 0);
  });
});
