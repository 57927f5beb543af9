// The chat widget in a real browser (Debian's Chromium through playwright-core): a page on another origin embeds it
// with one script tag, as the help-desk portal will.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { OpenAiCompatibleModel } from '../../src/answer/openai-compatible.ts';
import { FeedbackStore } from '../../src/feedback/feedback-store.ts';
import { FakeOpenAi } from '../helpers/fake-openai.ts';
import type { KnowledgeBase } from '../../src/knowledge-base.ts';
import { buildApp } from '../../src/server/app.ts';
import { launchChromium } from '../helpers/browser.ts';
import { corpusKnowledgeBase, testConfig } from '../helpers/knowledge-base.ts';
import { temporaryDirectory } from '../helpers/temp.ts';

const ARTIFACTS = path.resolve('test-artifacts');
const API_KEY = 'sk-admin-0123456789abcdef';

/** A text document whose content is hostile markup: it must reach the page as inert text. */
const hostileDocument = [
  'Printer Security Notice',
  '',
  'The toner reorder code is XSS-TONER-42 <img src=x onerror="window.__xss=\'img\'"> for all floors.',
  "Order toner with the form [toner form](javascript:window.__xss='link') before Friday.",
  '<script>window.__xss = "script"</script> The toner cabinet key is at reception.',
  '<style>*{display:none !important}</style> Toner cartridges are recycled in bin R-7.',
].join('\n');

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function hostPage(apiOrigin: string, options: { lang: string; inline?: boolean; key?: string }): string {
  const script = `<script src="${apiOrigin}/widget.js" data-key="${options.key ?? 'pk_portal'}" data-lang="${options.lang}" data-title="Portal assistant"
    data-suggestions='["How long can a VPN session last?"]' data-helpdesk-text="Open a help desk ticket" data-helpdesk-url="https://helpdesk.example/new" async></script>`;
  const body = options.inline ? `<div style="height:600px"><kb-chat inline data-key="${options.key ?? 'pk_portal'}"></kb-chat></div>` : '<p>Portal content</p>';
  // The page's own CSS tries to restyle everything; the widget's shadow root must not care.
  return `<!doctype html><html lang="${options.lang}"><head><meta charset="utf-8"><style>* { color: red !important; font-size: 40px !important; } button { display: none !important; }</style></head><body><h1>Intranet</h1>${body}${script}</body></html>`;
}

describe('chat widget in Chromium', () => {
  let knowledgeBase: KnowledgeBase;
  let app: FastifyInstance;
  let apiOrigin: string;
  let portal: Server;
  let portalOrigin: string;
  let stranger: Server;
  let strangerOrigin: string;
  let browser: Browser;
  let feedback: FeedbackStore;
  const model = new FakeOpenAi();
  let llmKnowledgeBase: KnowledgeBase;
  let llmApp: FastifyInstance;
  let llmOrigin: string;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const root = temporaryDirectory();
    const extra = path.join(root, 'extra');
    mkdirSync(extra);
    writeFileSync(path.join(extra, 'printer-security.txt'), hostileDocument);
    knowledgeBase = await corpusKnowledgeBase();
    await knowledgeBase.ingest([extra]);

    const pages = (request: { url?: string }, response: import('node:http').ServerResponse, origin: () => string) => {
      const url = new URL(request.url ?? '/', 'http://page');
      const api = url.searchParams.get('api') ?? origin();
      const html = url.pathname.startsWith('/zh') ? hostPage(api, { lang: 'zh' }) : url.pathname.startsWith('/inline') ? hostPage(api, { lang: 'en', inline: true }) : hostPage(api, { lang: 'en' });
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    };
    portal = createServer((request, response) => pages(request, response, () => apiOrigin));
    stranger = createServer((request, response) => pages(request, response, () => apiOrigin));
    portalOrigin = await listen(portal);
    strangerOrigin = await listen(stranger);
    feedback = new FeedbackStore(temporaryDirectory());
    const config = testConfig({ KB_DATA_DIR: temporaryDirectory(), KB_WIDGET_KEYS: `pk_portal=${portalOrigin};pk_demo=self`, KB_API_KEYS: API_KEY });
    app = await buildApp({ config, knowledgeBase, feedback });
    apiOrigin = await app.listen({ host: '127.0.0.1', port: 0 });
    // A second service answering through an (local, scripted) OpenAI-compatible model that streams at a model's pace.
    await model.start();
    model.always({ kind: 'answer', text: 'E-104 means the spindle encoder signal is lost; check connector X12 on the spindle drive [1].', pieces: 12, delayMs: 40 });
    llmKnowledgeBase = await corpusKnowledgeBase({ model: new OpenAiCompatibleModel({ baseUrl: model.baseUrl, model: 'fake', timeoutMs: 5000 }) });
    llmApp = await buildApp({ config: testConfig({ KB_DATA_DIR: temporaryDirectory(), KB_WIDGET_KEYS: `pk_portal=${portalOrigin}` }), knowledgeBase: llmKnowledgeBase });
    llmOrigin = await llmApp.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await llmApp?.close();
    await model.stop();
    portal?.close();
    stranger?.close();
    feedback?.close();
  });

  async function openPage(url: string, viewport = { width: 1200, height: 850 }): Promise<{ context: BrowserContext; page: Page; dialogs: string[]; errors: string[] }> {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    const dialogs: string[] = [];
    const errors: string[] = [];
    page.on('dialog', async (dialog) => {
      dialogs.push(dialog.message());
      await dialog.dismiss();
    });
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(url);
    await page.locator('kb-chat').waitFor({ state: 'attached' });
    return { context, page, dialogs, errors };
  }

  async function ask(page: Page, question: string): Promise<string> {
    const input = page.locator('kb-chat textarea');
    await input.fill(question);
    await input.press('Enter');
    const answer = page.locator('kb-chat .message.assistant').last();
    await page
      .locator('kb-chat .actions')
      .last()
      .waitFor({ timeout: 15_000 })
      .catch(() => undefined);
    await page.waitForFunction(() => {
      const chat = document.querySelector('kb-chat');
      const button = chat?.shadowRoot?.querySelector('form button');
      return button?.textContent !== 'Stop' && button?.textContent !== '停止';
    });
    return answer.innerText();
  }

  it('embeds by script tag, streams an English answer, and opens a citation as a source card', async () => {
    const { context, page, errors } = await openPage(`${portalOrigin}/?api=${encodeURIComponent(llmOrigin)}`);
    await page.locator('kb-chat .launcher').click();
    await assert.doesNotReject(page.locator('kb-chat textarea').waitFor({ state: 'visible' }));
    // Count the answer's visible states while it streams.
    await page.evaluate(() => {
      const root = document.querySelector('kb-chat')!.shadowRoot!;
      (window as unknown as { __states: Set<string> }).__states = new Set();
      new MutationObserver(() => {
        const last = [...root.querySelectorAll('.message.assistant')].pop();
        if (last) (window as unknown as { __states: Set<string> }).__states.add(last.textContent ?? '');
      }).observe(root, { subtree: true, childList: true, characterData: true });
    });
    const answer = await ask(page, 'What does fault code E-104 mean on the HL-400 lathe?');
    assert.match(answer, /encoder/i);
    const states = await page.evaluate(() => (window as unknown as { __states: Set<string> }).__states.size);
    assert.ok(states >= 3, `the answer appeared in ${states} states: it should stream`);
    await page.locator('kb-chat .cite').first().click();
    const card = page.locator('kb-chat .card').first();
    await card.waitFor();
    const cardText = await card.innerText();
    assert.match(cardText, /HL-400 CNC Lathe Operator Manual/);
    assert.match(cardText, /page \d/);
    assert.match(cardText, /cnc-lathe-hl-400-manual\.pdf/);
    // The document has no URL: the card links to its original on the knowledge-base server, through a signed link
    // that a new tab opens without any key.
    const href = await card.locator('a').getAttribute('href');
    assert.ok(href?.startsWith(`${llmOrigin}/v1/collections/default/documents/`), `source card link: ${href}`);
    const original = await fetch(href!);
    assert.equal(original.status, 200);
    assert.equal(original.headers.get('content-type'), 'application/pdf');
    // The page's hostile CSS (red 40px text, hidden buttons) does not reach into the widget.
    const style = await page.locator('kb-chat form button').evaluate((element) => ({ display: getComputedStyle(element).display, color: getComputedStyle(element).color }));
    assert.notEqual(style.display, 'none');
    assert.notEqual(style.color, 'rgb(255, 0, 0)');
    const messageStyle = await page
      .locator('kb-chat .message.assistant')
      .last()
      .evaluate((element) => ({ color: getComputedStyle(element).color, size: getComputedStyle(element).fontSize }));
    assert.deepEqual(messageStyle, { color: 'rgb(31, 41, 55)', size: '14px' });
    await page.screenshot({ path: path.join(ARTIFACTS, 'widget-open.png') });
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('keeps the conversation for a follow-up and across a reload in the same tab', async () => {
    const { context, page } = await openPage(`${portalOrigin}/`);
    await page.locator('kb-chat .launcher').click();
    await ask(page, 'What does fault code E-104 mean on the HL-400 lathe?');
    const followUp = await ask(page, 'And E-207?');
    assert.match(followUp, /Hydraulic pressure low/i);
    await page.reload();
    await page.locator('kb-chat .launcher').click();
    const log = await page.locator('kb-chat .log').innerText();
    assert.match(log, /And E-207\?/);
    assert.match(log, /Hydraulic pressure low/i);
    await context.close();
  });

  it('answers in Chinese typed through an input method, without sending during composition', async () => {
    const { context, page } = await openPage(`${portalOrigin}/zh`);
    await page.locator('kb-chat .launcher').click();
    const input = page.locator('kb-chat textarea');
    await input.focus();
    const cdp = await context.newCDPSession(page);
    // Composing "zhusuji" in a pinyin IME: Enter during composition picks the candidate, it must not send.
    await cdp.send('Input.imeSetComposition', { text: 'zhusuji', selectionStart: 7, selectionEnd: 7 });
    await cdp.send('Input.dispatchKeyEvent', { type: 'keyDown', key: 'Enter', code: 'Enter', windowsVirtualKeyCode: 229, nativeVirtualKeyCode: 229 });
    await cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', key: 'Enter', code: 'Enter', windowsVirtualKeyCode: 229, nativeVirtualKeyCode: 229 });
    assert.equal(await page.locator('kb-chat .message.user').count(), 0, 'Enter during composition sent the message');
    await cdp.send('Input.insertText', { text: '注塑机报警 M-05 是什么意思？' });
    assert.equal(await input.inputValue(), '注塑机报警 M-05 是什么意思？');
    await input.press('Enter');
    await page.locator('kb-chat .actions').last().waitFor();
    const answer = await page.locator('kb-chat .message.assistant').last().innerText();
    assert.match(answer, /油温过高/);
    assert.equal(await page.locator('kb-chat .launcher').getAttribute('aria-label'), '打开服务台助手');
    await context.close();
  });

  it('shows an unanswerable question as such, with the help desk link', async () => {
    const { context, page } = await openPage(`${portalOrigin}/`);
    await page.locator('kb-chat .launcher').click();
    const answer = await ask(page, 'How is the annual bonus for production staff calculated?');
    assert.match(answer, /not in the knowledge base/);
    const link = page.locator('kb-chat .refusal a');
    assert.equal(await link.getAttribute('href'), 'https://helpdesk.example/new');
    assert.equal(await link.innerText(), 'Open a help desk ticket');
    await context.close();
  });

  it('records thumbs up and down feedback for the answer', async () => {
    const { context, page } = await openPage(`${portalOrigin}/inline`);
    await ask(page, 'How long can a VPN session last?');
    await page.locator('kb-chat [data-rating="down"]').last().click();
    await page.locator('kb-chat [data-rating="down"][aria-pressed="true"]').waitFor();
    const records = feedback.listFeedback();
    assert.equal(records[0]?.rating, 'down');
    assert.equal(records[0]?.question, 'How long can a VPN session last?');
    await context.close();
  });

  it('renders hostile document content inert', async () => {
    const { context, page, dialogs, errors } = await openPage(`${portalOrigin}/`);
    await page.locator('kb-chat .launcher').click();
    const answer = await ask(page, 'What is the toner reorder code XSS-TONER-42 and where are toner cartridges recycled?');
    assert.match(answer, /XSS-TONER-42/);
    for (const button of await page.locator('kb-chat .cite').all()) await button.click();
    const report = await page.evaluate(() => {
      const root = document.querySelector('kb-chat')!.shadowRoot!;
      return {
        xss: (window as unknown as { __xss?: string }).__xss,
        images: root.querySelectorAll('img').length,
        scripts: root.querySelectorAll('script').length,
        styles: root.querySelectorAll('style').length,
        javascriptLinks: [...root.querySelectorAll('a')].filter((link) => !/^https?:/.test(link.getAttribute('href') ?? '')).length,
        text: root.querySelector('.log')?.textContent ?? '',
        bodyVisible: getComputedStyle(document.body).display !== 'none',
      };
    });
    assert.equal(report.xss, undefined);
    assert.equal(report.images, 0);
    assert.equal(report.scripts, 0);
    assert.equal(report.styles, 1, 'only the widget’s own style element');
    assert.equal(report.javascriptLinks, 0);
    assert.match(report.text, /onerror/, 'the markup is shown as text');
    assert.ok(report.bodyVisible);
    assert.deepEqual(dialogs, []);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('refuses a page from an origin the key is not bound to', async () => {
    const { context, page } = await openPage(`${strangerOrigin}/`);
    await page.locator('kb-chat .launcher').click();
    await page.locator('kb-chat textarea').fill('How long can a VPN session last?');
    await page.locator('kb-chat textarea').press('Enter');
    const error = await page.locator('kb-chat .message.error').innerText();
    assert.equal(await page.locator('kb-chat .message.assistant').count(), 0);
    assert.match(error, /not allowed/);
    // And the API itself: no CORS for this origin, so the page cannot read anything even without the widget.
    const direct = await page.evaluate(async (api) => {
      try {
        const response = await fetch(`${api}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: 'x' }) });
        return `status ${response.status}`;
      } catch (failure) {
        return `blocked: ${(failure as Error).name}`;
      }
    }, apiOrigin);
    assert.match(direct, /^blocked/);
    await context.close();
  });

  it('never accepts an admin API key from a browser page', async () => {
    const { context, page } = await openPage(`${portalOrigin}/`);
    const status = await page.evaluate(
      async ([api, key]) => {
        const response = await fetch(`${api}/v1/ask`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ question: 'VPN' }) });
        return { status: response.status, body: (await response.json()) as { error: { code: string } } };
      },
      [apiOrigin, API_KEY] as const,
    );
    assert.equal(status.status, 403);
    assert.equal(status.body.error.code, 'KB_ERR_FORBIDDEN');
    await context.close();
  });

  it('is usable with the keyboard alone: open, type, send with Enter, close with Escape', async () => {
    const { context, page } = await openPage(`${portalOrigin}/`);
    // From the top of the page, Tab reaches the launcher (the portal page has no other focusable element).
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.tagName.toLowerCase() + '/' + document.querySelector('kb-chat')?.shadowRoot?.activeElement?.className);
    assert.equal(focused, 'kb-chat/launcher right');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.querySelector('kb-chat')?.shadowRoot?.activeElement?.tagName), 'TEXTAREA');
    await page.keyboard.type('How long can a VPN session last?');
    await page.keyboard.press('Shift+Enter');
    assert.equal(await page.locator('kb-chat .message.user').count(), 0, 'Shift+Enter is a new line');
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Enter');
    await page.locator('kb-chat .actions').last().waitFor();
    assert.match(await page.locator('kb-chat .message.assistant').last().innerText(), /12 hours/);
    assert.equal(await page.locator('kb-chat .log').getAttribute('role'), 'log');
    assert.equal(await page.locator('kb-chat .log').getAttribute('aria-live'), 'polite');
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('kb-chat .panel').isHidden(), true);
    assert.equal(await page.evaluate(() => document.querySelector('kb-chat')?.shadowRoot?.activeElement?.className), 'launcher right');
    await context.close();
  });

  // Regression: the placeholder (with its key hint) wrapped to a second line and was cut off; fault-code tables
  // wrapped inside words ("Co/de", "E-10/4") because the bubble's overflow-wrap reached the cells.
  it('shows a one-line placeholder and fault-code tables whose cells break between words only', async () => {
    const { context, page } = await openPage(`${portalOrigin}/`);
    await page.locator('kb-chat .launcher').click();
    const placeholder = await page.evaluate(() => {
      const input = document.querySelector('kb-chat')!.shadowRoot!.querySelector('textarea')!;
      const style = getComputedStyle(input);
      const context2d = document.createElement('canvas').getContext('2d')!;
      context2d.font = `${style.fontSize} ${style.fontFamily}`;
      return {
        width: context2d.measureText(input.placeholder).width,
        available: input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),
        described: input.getAttribute('aria-describedby'),
      };
    });
    assert.ok(placeholder.width <= placeholder.available, `placeholder ${placeholder.width.toFixed(0)} px wide in ${placeholder.available} px`);
    assert.equal(placeholder.described, 'kb-chat-input-hint', 'the Enter / Shift+Enter hint is the input’s description');
    await page.locator('kb-chat textarea').fill('What does fault code E-104 mean on the HL-400 lathe?');
    await page.keyboard.press('Enter');
    await page.locator('kb-chat .actions').last().waitFor();
    await page.locator('kb-chat .message.assistant table').last().waitFor();
    const broken = await page.evaluate(() => {
      const found: string[] = [];
      const cells = document.querySelector('kb-chat')!.shadowRoot!.querySelectorAll('.message.assistant td, .message.assistant th');
      for (const cell of cells) {
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const text = node.textContent ?? '';
          for (const word of text.matchAll(/\S+/g)) {
            let previousTop: number | undefined;
            for (let offset = 0; offset < word[0].length; offset++) {
              const range = document.createRange();
              range.setStart(node, word.index! + offset);
              range.setEnd(node, word.index! + offset + 1);
              const top = range.getBoundingClientRect().top;
              // A new line inside a word is a word broken in two ("E-" / "104" too: a code reads as one word).
              if (previousTop !== undefined && Math.abs(top - previousTop) > 2) found.push(word[0]);
              previousTop = top;
            }
          }
        }
      }
      return { found, cells: cells.length };
    });
    assert.ok(broken.cells >= 6, `${broken.cells} table cells`);
    assert.deepEqual(broken.found, [], 'words broken inside table cells');
    await page.locator('kb-chat .panel').screenshot({ path: path.join(ARTIFACTS, 'widget-fault-code-table.png') });
    await context.close();
  });

  // Regression: without an LLM every short question was glued to the previous one, so clicking the demo page's
  // sample questions in turn answered the previous question from the second click on.
  it("answers each of the demo page's sample questions, clicked in turn, from its own document", async () => {
    const { context, page, errors } = await openPage(`${apiOrigin}/`);
    const expected = ['HL-400 CNC Lathe Operator Manual', 'VPN: Frequently Asked Questions', 'Bolt Torque Specifications', 'IM-160 注塑机操作手册', '员工手册：休假制度', '差旅费报销办法'];
    const samples = page.locator('ul.samples button');
    assert.equal(await samples.count(), expected.length);
    for (const [index, title] of expected.entries()) {
      await samples.nth(index).click();
      await page.locator('kb-chat .message.assistant .actions').nth(index).waitFor({ timeout: 15_000 });
      const answer = page.locator('kb-chat .message.assistant').nth(index);
      const cited = await answer.locator('.cite').evaluateAll((buttons) => buttons.map((button) => button.getAttribute('aria-label') ?? ''));
      assert.ok(cited.length > 0, `sample ${index + 1} was not answered: ${await answer.innerText()}`);
      assert.ok(
        cited.every((label) => label.endsWith(`: ${title}`)),
        `sample ${index + 1} cites ${cited.join(', ')}, not ${title}`,
      );
    }
    await page.locator('kb-chat .panel').screenshot({ path: path.join(ARTIFACTS, 'demo-samples-in-turn.png') });
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('fits a narrow mobile viewport', async () => {
    const { context, page } = await openPage(`${portalOrigin}/`, { width: 375, height: 700 });
    await page.locator('kb-chat .launcher').click();
    const box = await page.locator('kb-chat .panel').boundingBox();
    assert.ok(box && box.x >= 0 && box.width <= 375 && box.y >= 0 && box.height <= 700, JSON.stringify(box));
    await page.screenshot({ path: path.join(ARTIFACTS, 'widget-mobile.png') });
    await context.close();
  });
});
