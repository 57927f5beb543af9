// The production build: `npm run build`'s compiler settings (tsconfig.build.json) give plain JavaScript that Node runs
// without tsx — the CLI ingests with a parser thread, the server answers from its query threads and serves the widget
// bundled from the compiled sources, and stops cleanly. Built into test-artifacts/ (git-ignored) so that the output
// resolves this checkout's node_modules.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { temporaryDirectory } from '../helpers/temp.ts';

const output = path.resolve('test-artifacts', `build-${process.pid}`);

function filesUnder(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const file = path.join(directory, name);
    return statSync(file).isDirectory() ? filesUnder(file) : [file];
  });
}

describe('production build', () => {
  before(() => {
    const result = spawnSync(
      process.execPath,
      [path.resolve('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', output, '--tsBuildInfoFile', path.join(output, '.tsbuildinfo')],
      { encoding: 'utf8' },
    );
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });
  after(() => rmSync(output, { recursive: true, force: true }));

  it('compiles every module to JavaScript that imports no TypeScript file', () => {
    const scripts = filesUnder(output).filter((file) => file.endsWith('.js') || file.endsWith('.mjs'));
    assert.ok(scripts.some((file) => file.endsWith(path.join('server', 'query-worker.js'))));
    assert.ok(scripts.some((file) => file.endsWith('worker-entry.mjs')));
    for (const file of scripts) {
      const tsImport = /(?:from\s+|import\s*\()\s*["'][^"']+\.ts["']/.exec(readFileSync(file, 'utf8'));
      assert.equal(tsImport, null, `${path.relative(output, file)} imports ${tsImport?.[0]}`);
    }
    assert.equal(JSON.parse(readFileSync('package.json', 'utf8')).scripts.start, 'node dist/cli.js start');
  });

  it('ingests, serves from query threads, the compiled widget and console, and stops on SIGTERM, with plain node', async () => {
    const dataDir = temporaryDirectory();
    const environment = { ...process.env, KB_DATA_DIR: dataDir, KB_LOG_LEVEL: 'info', KB_INGEST_THREADS: '1', KB_QUERY_THREADS: '1', KB_LLM_BASE_URL: '', NODE_OPTIONS: '' };
    const cli = path.join(output, 'cli.js');
    const ingest = spawnSync(process.execPath, [cli, 'ingest', 'docs-corpus/it'], { encoding: 'utf8', env: environment });
    assert.equal(ingest.status, 0, ingest.stdout + ingest.stderr);
    assert.match(ingest.stdout, /added/);

    const server = spawn(process.execPath, [cli, 'serve'], { env: { ...environment, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    server.stdout.on('data', (data: Buffer) => (log += data.toString()));
    server.stderr.on('data', (data: Buffer) => (log += data.toString()));
    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (!/queries run in 1 worker thread\b/.test(log) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.match(log, /queries run in 1 worker thread\b/, log);
      const base = /Server listening at (http:\/\/[\d.:]+)/.exec(log)![1]!;
      const answer = (await (
        await fetch(`${base}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: 'How long can a VPN session last?' }) })
      ).json()) as { answerable: boolean; citations: { source: string }[] };
      assert.equal(answer.answerable, true);
      assert.match(answer.citations[0]!.source, /vpn/i);
      const widget = await fetch(`${base}/widget.js`);
      assert.equal(widget.status, 200);
      assert.ok((await widget.text()).length > 10_000);
      // The console is bundled from the compiled modules too.
      const consoleScript = await fetch(`${base}/admin/console.js`);
      assert.equal(consoleScript.status, 200);
      assert.match(await consoleScript.text(), /login-submit/);
    } finally {
      server.kill('SIGTERM');
    }
    assert.equal(await exited, 0, log);
  });
});
