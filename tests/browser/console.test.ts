// The admin console (/admin) in Debian's Chromium through playwright-core, used as the help-desk team would: sign in
// with an admin key, upload a Word file and a PDF, watch the job, find the documents and read their chunks, manage
// keys, copy the widget snippet, turn a thumbs-down conversation into a curated answer and see it answer, sign out.
// Every page is screenshot in English and Chinese (test-artifacts/console-*.png, git-ignored); the browser console
// must stay free of errors throughout.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { KnowledgeBase } from '../../src/knowledge-base.ts';
import { buildApp } from '../../src/server/app.ts';
import { CONSOLE_PAGES } from '../../src/console/pages.ts';
import { launchChromium } from '../helpers/browser.ts';
import { testConfig } from '../helpers/knowledge-base.ts';
import { silentLogger, temporaryDirectory } from '../helpers/temp.ts';

const ARTIFACTS = path.resolve('test-artifacts');
const ADMIN_KEY = 'kb_admin_console-test-0123456789';
const QUESTION = 'What is the hotel limit per night in Beijing?';
const CORRECTED = 'In Beijing the hotel limit is 700 CNY per night, and the daily meal allowance is 180 CNY (Travel and Expense Policy, section 3).';

describe('admin console in Chromium', () => {
  let app: FastifyInstance;
  let origin: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const consoleErrors: string[] = [];

  /** An API call as a server-side client, with the admin key. */
  async function callApi<T>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${origin}${url}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json().catch(() => undefined)) as T };
  }

  async function openPage(name: (typeof CONSOLE_PAGES)[number]): Promise<void> {
    await page.getByTestId(`nav-${name}`).click();
    await page.locator(`main[data-page="${name}"][data-ready]`).waitFor();
  }

  /** Does something in the page and waits for the API call it makes to be answered. */
  async function andWaitFor(apiPath: string, action: () => Promise<unknown>): Promise<void> {
    await Promise.all([page.waitForResponse((response) => new URL(response.url()).pathname === apiPath), action()]);
    // The answer is drawn in the same task that reads it; one frame later it is on the page.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
  }

  async function cookieHeader(): Promise<string> {
    return (await context.cookies(origin)).map((cookie) => `${cookie.name}=${cookie.value}`).join('; ');
  }

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const config = testConfig({ KB_DATA_DIR: temporaryDirectory(), KB_API_KEYS: ADMIN_KEY });
    const knowledgeBase = await KnowledgeBase.open(config, silentLogger);
    app = await buildApp({ config, knowledgeBase });
    origin = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    // Deleting and revoking ask for confirmation.
    page.on('dialog', (dialog) => void dialog.accept());
  });

  after(async () => {
    await browser?.close();
    await app?.close();
  });

  it('shows no console page and no admin data without a session', async () => {
    for (const name of CONSOLE_PAGES) {
      const response = await fetch(`${origin}/admin/${name}`, { redirect: 'manual' });
      assert.equal(response.status, 302, name);
      assert.equal(response.headers.get('location'), `/admin?next=${encodeURIComponent(`/admin/${name}`)}`);
    }
    for (const url of ['/v1/jobs', '/v1/keys', '/v1/conversations', '/v1/collections/default/documents']) assert.equal((await fetch(`${origin}${url}`, { headers: { origin } })).status, 401, url);
    await page.goto(`${origin}/admin/conversations`);
    await page.getByTestId('login-key').waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-en-sign-in.png') });
    assert.equal(await page.getByTestId('conversations-table').count(), 0);
    const shell = await fetch(`${origin}/admin`);
    assert.match(shell.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.equal(shell.headers.get('cache-control'), 'no-store');
  });

  it('refuses a wrong key and signs in with the admin key, to the page asked for', async () => {
    // A separate page: the refused sign-in is a 401 that Chromium logs as a failed resource.
    const other = await context.newPage();
    await other.goto(`${origin}/admin`);
    await other.getByTestId('login-key').fill('kb_admin_not-a-real-key');
    await other.getByTestId('login-submit').click();
    await other
      .getByRole('alert')
      .getByText(/not an admin key/)
      .waitFor();
    await other.close();

    await page.getByTestId('login-key').fill(ADMIN_KEY);
    await page.getByTestId('login-submit').click();
    await page.waitForURL(`${origin}/admin/conversations`);
    await page.getByTestId('conversations-table').waitFor();
    const [cookie] = await context.cookies(origin);
    assert.equal(cookie?.name, 'kb_console');
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, 'Strict');
    assert.equal(cookie?.secure, false, 'Secure only over HTTPS');
    assert.equal(await page.evaluate(() => document.cookie), '', 'the session cookie is not readable by scripts');
  });

  it('uploads a Word file and a PDF with metadata, shows the job finish, finds the documents and their chunks', async () => {
    await openPage('documents');
    // Files dropped on the upload area are the files to upload.
    await page.evaluate(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['# Dropped\n\nA dropped note.'], 'dropped-note.md', { type: 'text/markdown' }));
      document.querySelector('.drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    });
    assert.deepEqual(await page.getByTestId('upload-input').evaluate((element: HTMLInputElement) => [...element.files!].map((file) => file.name)), ['dropped-note.md']);
    await page.getByText('1 file(s) chosen').waitFor();
    await page.getByTestId('upload-input').setInputFiles([path.resolve('docs-corpus/hr/差旅费报销办法.docx'), path.resolve('docs-corpus/hr/travel-and-expenses.pdf')]);
    await page.getByTestId('upload-tags').fill('travel, finance');
    await page.getByTestId('upload-department').fill('Finance');
    await page.getByTestId('upload-submit').click();
    await page
      .getByTestId('upload-status')
      .getByText(/succeeded/)
      .waitFor({ timeout: 60_000 });
    const rows = page.getByTestId('documents-table').getByTestId('document-row');
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2);
    const table = await page.getByTestId('documents-table').innerText();
    assert.match(table, /Travel and Expense Policy/);
    assert.match(table, /差旅费报销办法/);
    assert.match(table, /travel, finance, Finance/);

    await openPage('jobs');
    const job = page.getByTestId('jobs-table').getByTestId('job-row').first();
    assert.equal(await job.getAttribute('data-state'), 'succeeded');
    assert.match(await job.innerText(), /upload/);
    await job.locator('summary').click();
    assert.match(await job.innerText(), /差旅费报销办法\.docx\s+added/);
    assert.match(await job.innerText(), /travel-and-expenses\.pdf\s+added/);

    // Searched and filtered by the store.
    await openPage('documents');
    const documentsPath = '/v1/collections/default/documents';
    await page.getByTestId('documents-search').fill('travel');
    await andWaitFor(documentsPath, () => page.getByTestId('documents-search-submit').click());
    assert.equal(await rows.count(), 1);
    await page.getByTestId('documents-search').fill('');
    await andWaitFor(documentsPath, () => page.getByTestId('documents-format').selectOption('docx'));
    assert.equal(await rows.count(), 1);
    assert.match(await rows.first().innerText(), /差旅费报销办法/);
    await andWaitFor(documentsPath, () => page.getByTestId('documents-format').selectOption('pdf'));
    assert.equal(await rows.count(), 1);
    await rows.first().getByTestId('document-chunks').click();
    const chunks = page.getByTestId('chunks-list').getByTestId('chunk');
    await chunks.first().waitFor();
    assert.ok((await chunks.count()) >= 3);
    const hotels = await chunks.filter({ hasText: '700 CNY' }).first().innerText();
    assert.match(hotels, /3\. Hotels and daily allowance · page 2/, 'heading path and page of the chunk');
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-en-chunks.png') });
    await page.getByTestId('dialog-close').click();
    // The original, downloaded with the session.
    const original = await page.request.get(origin + (await rows.first().getByTestId('document-download').getAttribute('href'))!);
    assert.equal(original.status(), 200);
    assert.equal(original.headers()['content-type'], 'application/pdf');
    assert.equal((await original.body()).subarray(0, 5).toString(), '%PDF-');
    await andWaitFor(documentsPath, () => page.getByTestId('documents-format').selectOption(''));
    assert.equal(await rows.count(), 2);
  });

  it('creates a query key whose secret is shown once and works, then revokes it', async () => {
    await openPage('keys');
    await page.getByTestId('key-scope').selectOption('query');
    await page.getByTestId('key-label').fill('help-desk bot');
    await page.getByTestId('key-create').click();
    const secret = (await page.getByTestId('key-secret').innerText()).trim();
    assert.match(secret, /^kb_query_/);
    const row = page.getByTestId('key-row').filter({ hasText: 'help-desk bot' });
    await row.waitFor();
    const search = () =>
      fetch(`${origin}/v1/search`, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: JSON.stringify({ query: 'hotel limit' }) });
    assert.equal((await search()).status, 200);
    assert.doesNotMatch(await page.getByTestId('keys-table').innerText(), new RegExp(secret), 'the list never shows a secret');
    await row.getByTestId('key-revoke').click();
    await row.waitFor({ state: 'detached' });
    assert.equal((await search()).status, 401);
  });

  it('creates a widget key, copies the embed snippet and previews the widget', async () => {
    await openPage('widget');
    await page.getByTestId('widget-create-key').click();
    const preview = page.frameLocator('[data-testid="widget-preview"]');
    await preview.locator('kb-chat').waitFor({ state: 'attached' });
    await page.getByTestId('widget-preview').scrollIntoViewIfNeeded();
    const snippet = await page.getByTestId('widget-snippet').innerText();
    assert.match(snippet, new RegExp(`<script src="${origin}/widget.js"`));
    assert.match(snippet, /data-key="pk_[\w-]+"/);
    await page.getByTestId('widget-copy').click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), snippet);
    // The preview is the real widget: it opens a session with the new key and answers.
    await preview.locator('kb-chat .launcher').click();
    await preview.locator('kb-chat textarea').fill('What is the hotel limit in Shanghai?');
    await preview.locator('kb-chat textarea').press('Enter');
    await preview.locator('kb-chat .message.assistant').getByText(/700/).first().waitFor({ timeout: 15_000 });
  });

  it('turns a thumbs-down conversation into a curated answer that answers the same and a paraphrased question', async () => {
    const asked = await callApi<{ answerId: string; answeredBy: string }>('POST', '/v1/ask', { question: QUESTION });
    assert.equal(asked.status, 200);
    assert.notEqual(asked.body.answeredBy, 'curated');
    assert.equal((await callApi('POST', '/v1/feedback', { answerId: asked.body.answerId, rating: 'down', comment: 'should give the meal allowance too' })).status, 201);
    for (const question of ['How do I connect to the VPN from a Linux laptop?', 'VPN connection from a Linux laptop?']) await callApi('POST', '/v1/ask', { question });

    await openPage('conversations');
    await andWaitFor('/v1/conversations', () => page.getByTestId('conversations-rating').selectOption('down'));
    const row = page.getByTestId('conversation-row');
    assert.equal(await row.count(), 1);
    assert.match(await row.innerText(), /should give the meal allowance too/);
    await row.getByTestId('conversation-promote').click();
    await page.getByTestId('curated-answer').fill(CORRECTED);
    await page.getByTestId('curated-save').click();
    await page.locator('dialog').waitFor({ state: 'detached' });

    await openPage('curated');
    assert.match(await page.getByTestId('curated-table').innerText(), /hotel limit is 700 CNY/);

    await openPage('try');
    await page.getByTestId('try-question').fill(QUESTION);
    await page.getByTestId('try-ask').click();
    await page.getByTestId('try-answer').getByText(CORRECTED).waitFor();
    assert.match(await page.getByTestId('try-answer').innerText(), /curated/);
    await page.getByTestId('try-results').waitFor();

    const paraphrased = await callApi<{ answer: string; answeredBy: string }>('POST', '/v1/ask', { question: 'What is the per-night hotel limit in Beijing?' });
    assert.equal(paraphrased.body.answeredBy, 'curated');
    assert.equal(paraphrased.body.answer, CORRECTED);

    await openPage('gaps');
    assert.match(await page.getByTestId('gaps-table').getByTestId('gap-row').first().innerText(), /Linux laptop[\s\S]*\b2\b/);
    // Gaps since tomorrow: none yet.
    await andWaitFor('/v1/knowledge-gaps', () => page.getByTestId('gaps-since').fill(new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)));
    assert.equal(await page.getByTestId('gaps-table').getByTestId('gap-row').count(), 0);
  });

  it('creates a collection and switches its embedding model with progress', async () => {
    await openPage('collections');
    await page.getByTestId('collection-name').fill('manuals');
    await page.getByTestId('collection-chunk-tokens').fill('300');
    await page.getByTestId('collection-create').click();
    const row = page.getByTestId('collection-row').filter({ hasText: 'manuals' });
    await row.waitFor();
    assert.match(await row.innerText(), /300 tokens a chunk/);
    await row.getByTestId('collection-switch').click();
    await page.getByTestId('embedder-select').selectOption('builtin');
    await page.getByTestId('embedder-submit').click();
    await page
      .locator('dialog')
      .getByText(/succeeded/)
      .waitFor({ timeout: 30_000 });
    await page.getByTestId('dialog-close').click();
  });

  it('refuses state-changing calls without the CSRF token or from another origin', async () => {
    const cookie = await cookieHeader();
    const create = (headers: Record<string, string>) =>
      fetch(`${origin}/v1/keys`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ scope: 'query', label: 'csrf probe' }) });
    const missing = await create({});
    assert.equal(missing.status, 403);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'KB_ERR_CSRF');
    assert.equal((await create({ 'x-csrf-token': 'forged' })).status, 403);
    const session = (await (await fetch(`${origin}/v1/console/session`, { headers: { cookie } })).json()) as { csrfToken: string };
    assert.equal((await create({ 'x-csrf-token': session.csrfToken, origin: 'https://evil.example' })).status, 403);
    // Reads need no token; with it, the same call from the console's own origin works.
    assert.equal((await fetch(`${origin}/v1/keys`, { headers: { cookie } })).status, 200);
    const created = await create({ 'x-csrf-token': session.csrfToken, origin });
    assert.equal(created.status, 201);
    assert.equal((await callApi('DELETE', `/v1/keys/${((await created.json()) as { record: { id: string } }).record.id}`)).status, 204);
  });

  it('shows every page in English and in Chinese, on a laptop and a tablet', async () => {
    for (const language of ['en', 'zh'] as const) {
      await page.getByTestId('language-select').selectOption(language);
      for (const name of CONSOLE_PAGES) {
        await openPage(name);
        if (name === 'documents') await page.getByTestId('documents-table').getByTestId('document-row').first().waitFor();
        await page.screenshot({ path: path.join(ARTIFACTS, `console-${language}-${name}.png`), fullPage: true });
      }
      const navigation = await page.locator('nav.side').innerText();
      assert.match(navigation, language === 'zh' ? /文档[\s\S]*任务[\s\S]*知识缺口[\s\S]*精选答案/ : /Documents[\s\S]*Jobs[\s\S]*Knowledge gaps[\s\S]*Curated answers/);
      assert.equal(await page.evaluate(() => document.documentElement.lang), language === 'zh' ? 'zh-CN' : 'en');
    }
    await page.setViewportSize({ width: 820, height: 1180 });
    await openPage('documents');
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'no sideways scrolling on a tablet');
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-zh-tablet-documents.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByTestId('language-select').selectOption('en');
  });

  it('works in Chinese from the first page: a zh-CN browser signs in, asks and finds in Chinese, and is sent back to sign-in when its session ends', async () => {
    const chinese = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    try {
      const tab = await chinese.newPage();
      tab.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(message.text());
      });
      tab.on('pageerror', (error) => consoleErrors.push(error.message));
      await tab.goto(`${origin}/admin/try`);
      await tab.getByRole('heading', { name: '登录控制台' }).waitFor();
      await tab.screenshot({ path: path.join(ARTIFACTS, 'console-zh-sign-in.png') });
      await tab.getByTestId('login-key').fill(ADMIN_KEY);
      await tab.getByTestId('login-submit').click();
      await tab.locator('main[data-page="try"][data-ready]').waitFor();
      assert.equal(await tab.evaluate(() => document.documentElement.lang), 'zh-CN');
      await tab.getByTestId('try-question').fill('出差去上海住宿费每晚最多报销多少？');
      await tab.getByTestId('try-ask').click();
      await tab.getByTestId('try-results').waitFor();
      const answer = await tab.getByTestId('try-answer').innerText();
      assert.match(answer, /700/);
      assert.match(answer, /差旅费报销办法/);
      assert.match(answer, /置信度/);
      await tab.getByTestId('nav-documents').click();
      await tab.locator('main[data-page="documents"][data-ready]').waitFor();
      await tab.getByTestId('documents-search').fill('差旅');
      await tab.getByTestId('documents-search-submit').click();
      await tab.getByTestId('documents-table').getByTestId('document-row').filter({ hasText: '差旅费报销办法' }).waitFor();
      assert.match(await tab.getByTestId('documents-table').innerText(), /标题[\s\S]*格式[\s\S]*分块/);
      // A session that ends while the page is open (expired; here its cookie is gone) leads back to sign-in, saying
      // why. The refused call is a 401 that Chromium logs, on purpose: no longer counted.
      tab.removeAllListeners('console');
      await chinese.clearCookies();
      await tab.getByTestId('nav-jobs').click();
      await tab.getByText('会话已结束，请重新登录。').waitFor();
      await tab.getByTestId('login-key').waitFor();
    } finally {
      await chinese.close();
    }
  });

  it('signs out: the session is over on the server and the pages ask for sign-in again', async () => {
    const cookie = await cookieHeader();
    await openPage('documents');
    await page.getByTestId('sign-out').click();
    await page.getByTestId('login-key').waitFor();
    assert.equal((await fetch(`${origin}/v1/keys`, { headers: { cookie } })).status, 401, 'the old cookie no longer works');
    assert.deepEqual(await context.cookies(origin), []);
    await page.goto(`${origin}/admin/keys`);
    await page.getByTestId('login-key').waitFor();
    assert.equal(await page.getByTestId('keys-table').count(), 0);
  });

  it('logged no error in the browser console', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
