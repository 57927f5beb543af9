// A new user's first hour, from the README itself: in a folder laid out like a fresh clone, the quick start's server
// is started as written (`npm run demo`), then every shell and JavaScript example of README.md runs in order, as
// written, in one shell (variables such as ADMIN_KEY carry over, as in a reader's terminal). The only change made to
// the text is the port: the examples say localhost:3000, the test's server listens on a free port. Blocks that need
// what these machines lack are marked in the README with a reason, and the reasons allowed are listed here.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { freePort } from '../helpers/free-port.ts';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import semver from 'semver';
import { temporaryDirectory } from '../helpers/temp.ts';

interface ReadmeBlock {
  language: string;
  code: string;
  /** The `<!-- first-hour: … -->` note right above the block, if any. */
  note: string | undefined;
  line: number;
}

/** Reasons a README block may give for not being run here; anything else must run. */
const ALLOWED_SKIPS = [/needs a Docker engine/, /reaches an external LLM provider/, /needs an installed embedding model/];

function readmeBlocks(text: string): ReadmeBlock[] {
  const lines = text.split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    const fence = /^```(\w+)\s*$/.exec(lines[index]!);
    if (!fence) continue;
    const start = index;
    const body: string[] = [];
    for (index++; index < lines.length && lines[index] !== '```'; index++) body.push(lines[index]!);
    const note = /^<!-- first-hour: (.+) -->$/.exec(lines[start - 1] ?? '')?.[1];
    blocks.push({ language: fence[1]!, code: body.join('\n'), note, line: start + 1 });
  }
  return blocks;
}

/** The repository's tracked files, copied as a clone would have them, with this checkout's installed packages. */
function cloneLikeFolder(): string {
  const folder = temporaryDirectory();
  const listed = spawnSync('git', ['ls-files', '-z'], { encoding: 'utf8' });
  assert.equal(listed.status, 0, `git ls-files failed: ${listed.stderr}`);
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    mkdirSync(path.join(folder, path.dirname(file)), { recursive: true });
    copyFileSync(file, path.join(folder, file));
  }
  symlinkSync(path.resolve('node_modules'), path.join(folder, 'node_modules'), 'dir');
  return folder;
}

describe('the README, run as a new user would', () => {
  const blocks = readmeBlocks(readFileSync('README.md', 'utf8'));
  let folder: string;
  let port: number;
  let server: ReturnType<typeof spawn> | undefined;
  let serverOutput = '';
  // A new user's environment: none of the project's settings, so every default applies (the data in ./data).
  const environment: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(KB_|PORT$|HOST$)/.test(name)));
  Object.assign(environment, { KB_LOG_LEVEL: 'warn', npm_config_update_notifier: 'false' });

  before(async () => {
    folder = cloneLikeFolder();
    port = await freePort();
  });
  // npm runs the server as its grandchild: the whole process group is stopped, or the server outlives the test.
  after(async () => {
    if (!server?.pid || server.exitCode !== null) return;
    const exited = new Promise((resolve) => server!.once('exit', resolve));
    process.kill(-server.pid, 'SIGTERM');
    await exited;
  });

  it('stops the test command at once, naming the one command to run, on a machine without Chromium', () => {
    const result = spawnSync('bash', ['scripts/test-prerequisites.sh'], { cwd: folder, encoding: 'utf8', env: { ...environment, CHROMIUM_PATH: '/nonexistent/chromium', KB_TEST_INSTALL: 'no' } });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /sudo apt-get update && sudo apt-get install -y chromium/);
    const packageJson = JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.match(packageJson.scripts['test']!, /^bash scripts\/test-prerequisites\.sh && /, 'npm test checks its prerequisites before anything else');
  });

  // Regression: every npm command warned about the .npmrc key, and npm ci warned EBADENGINE for three packages.
  it('installs and runs npm commands without warnings on this Node.js', () => {
    const result = spawnSync('npm', ['run', 'typecheck', '--', '--version'], { cwd: folder, encoding: 'utf8', env: environment });
    assert.equal(result.status, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /npm warn/i);
    const lock = JSON.parse(readFileSync(path.join(folder, 'package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string } | string[] }> };
    const unsupported = Object.entries(lock.packages)
      .filter(([, entry]) => entry.engines && !Array.isArray(entry.engines) && entry.engines.node && !semver.satisfies(process.version, entry.engines.node))
      .map(([name, entry]) => `${name} wants node ${(entry.engines as { node: string }).node}`);
    assert.deepEqual(unsupported, [], `packages that npm ci would warn about (EBADENGINE) on ${process.version}`);
    const npmrc = readFileSync(path.join(folder, '.npmrc'), 'utf8');
    assert.doesNotMatch(npmrc, /^onnxruntime-node-install/m);
    const allowScripts = (JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> }).allowScripts;
    assert.equal(allowScripts['onnxruntime-node'], false, 'the CUDA download of onnxruntime-node stays off');
  });

  it('starts the quick start server as written', async () => {
    const quickStart = blocks.find((block) => block.note?.startsWith('quick start'));
    assert.ok(quickStart, 'the README has a quick start block');
    assert.match(quickStart.code, /^npm ci && npm run demo\b/m);
    assert.match(quickStart.code, /^npm test\b/m);
    server = spawn('npm', ['run', 'demo'], { cwd: folder, env: { ...environment, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    server.stderr!.on('data', (part: Buffer) => (serverOutput += part.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm run demo printed no URL within 120 s: ${serverOutput}`)), 120_000);
      server!.on('exit', (code) => reject(new Error(`npm run demo exited (${code}): ${serverOutput}`)));
      server!.stdout!.on('data', (part: Buffer) => {
        serverOutput += part.toString();
        if (/ready at http:\/\/localhost:\d+/.test(serverOutput)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    assert.match(serverOutput, /ingest: 33 added/);
  });

  it('runs every shell and JavaScript example of the README as written, each answering 2xx', { timeout: 300_000 }, () => {
    assert.ok(server, 'the quick start server runs');
    const runnable = blocks.filter((block) => (block.language === 'sh' || block.language === 'js') && !block.note?.startsWith('quick start'));
    for (const block of runnable.filter((block) => block.note)) {
      assert.ok(
        ALLOWED_SKIPS.some((reason) => reason.test(block.note!)),
        `README line ${block.line}: "${block.note}" is not a reason to leave an example untested`,
      );
    }
    const toRun = runnable.filter((block) => !block.note);
    assert.ok(toRun.length >= 8, `only ${toRun.length} examples to run`);
    const withPort = (code: string) => code.replaceAll('localhost:3000', `localhost:${port}`);
    const script = [
      'set -euo pipefail',
      // Every HTTP status goes to standard error, so that a 401 or a 500 cannot pass for success.
      `curl() { command curl -w '%{stderr}::status %{http_code}\\n' "$@"; }`,
    ];
    toRun.forEach((block, index) => {
      script.push(`echo "::block ${index} (README line ${block.line})" >&2`);
      if (block.language === 'sh') script.push(withPort(block.code));
      else {
        const file = `readme-example-${index}.mjs`;
        writeFileSync(path.join(folder, file), withPort(block.code));
        script.push(`node ${file}`);
      }
    });
    script.push('echo "::done" >&2');
    const result = spawnSync('bash', ['-c', script.join('\n')], { cwd: folder, encoding: 'utf8', env: environment, timeout: 280_000 });
    const markers = [...result.stderr.matchAll(/^::block (\d+) \(README line (\d+)\)$/gm)];
    const last = markers.at(-1);
    assert.equal(result.status, 0, `the README example at line ${last?.[2]} failed (exit ${result.status}):\n${result.stderr.slice(-3000)}\n${result.stdout.slice(-2000)}`);
    assert.match(result.stderr, /^::done$/m);
    const statuses = [...result.stderr.matchAll(/::status (\d+)/g)].map((match) => Number(match[1]));
    assert.ok(statuses.length >= 20, `only ${statuses.length} HTTP calls made`);
    const failed = statuses.filter((status) => status < 200 || status >= 300);
    assert.deepEqual(failed, [], `some README calls were refused:\n${result.stderr.slice(-3000)}`);
    // What the examples promise.
    assert.match(result.stdout, /E-104 \| Spindle encoder signal lost/, 'the first ask example answers the fault code');
    assert.match(result.stdout, /event: done/, 'the streaming example streams');
    assert.match(result.stdout, /\(\d+ tokens\)/, 'the OpenAI SDK example streams with include_usage');
    assert.match(result.stdout, /^true$/m, 'npm run -s ask --json prints JSON alone');
    assert.match(result.stdout, /"state":"(queued|running|succeeded)"/, 'the upload made a job');
  });
});
