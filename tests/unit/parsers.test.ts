import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { KbError } from '../../src/errors.ts';
import { parseFile } from '../../src/ingest/parsers/index.ts';
import { binaryGarbage, deeplyNestedHtml, encryptedPdf, gbkText, imageOnlyPdf, truncatedCopy, zipBombLike } from '../helpers/fixtures.ts';

const corpus = (file: string) => ({ path: `docs-corpus/${file}`, bytes: readFileSync(`docs-corpus/${file}`) });

async function parseError(file: { path: string; bytes: Buffer }): Promise<KbError> {
  try {
    await parseFile(file);
  } catch (error) {
    assert.ok(error instanceof KbError, `expected a KbError, got ${String(error)}`);
    return error;
  }
  assert.fail(`${file.path} parsed without error`);
}

describe('PDF parser', () => {
  it('keeps page numbers and numbered headings of an English manual', async () => {
    const document = await parseFile(corpus('manuals/cnc-lathe-hl-400-manual.pdf'));
    assert.equal(document.format, 'pdf');
    assert.equal(document.title, 'HL-400 CNC Lathe Operator Manual');
    assert.equal(document.pageCount, 3);
    const faults = document.sections.find((section) => section.text.includes('E-104 | Spindle encoder signal lost'));
    assert.equal(faults?.page, 2);
    assert.deepEqual(faults?.headings, ['3. Fault codes']);
    // Page footers ("… — 2/3") are recognised as repeated lines and removed.
    assert.ok(!document.sections.some((section) => /— \d\/3/.test(section.text)));
  });

  it('reads a Chinese PDF without breaking words at line wraps', async () => {
    const document = await parseFile(corpus('manuals/注塑机-IM-160-操作手册.pdf'));
    assert.equal(document.language, 'zh');
    const table = document.sections.find((section) => section.text.includes('锁模力 | 1600 kN'));
    assert.equal(table?.page, 1);
    assert.ok(document.sections.some((section) => section.page === 3 && section.text.includes('更换液压油')));
  });

  it('reports an encrypted PDF', async () => {
    const error = await parseError({ path: 'secret.pdf', bytes: await encryptedPdf() });
    assert.equal(error.code, 'KB_ERR_PARSE');
    assert.match(error.message, /encrypted/);
  });

  it('reports a truncated PDF', async () => {
    const error = await parseError({ path: 'cut.pdf', bytes: truncatedCopy('docs-corpus/manuals/cnc-lathe-hl-400-manual.pdf', 0.4) });
    assert.equal(error.code, 'KB_ERR_PARSE');
  });

  it('reports a PDF without text, where OCR finds none on its image either', async () => {
    const error = await parseError({ path: 'scan.pdf', bytes: await imageOnlyPdf() });
    assert.match(error.message, /the PDF has no text \(no text layer, and OCR found none\)/);
  });
});

describe('DOCX parser', () => {
  it('keeps Word headings and table rows', async () => {
    const document = await parseFile(corpus('manuals/forklift-fl-25-manual.docx'));
    assert.equal(document.format, 'docx');
    const specifications = document.sections.find((section) => section.headings.includes('Specifications'));
    assert.ok(specifications?.text.includes('Battery | 80 V, 500 Ah lead-acid'), specifications?.text);
  });

  it('refuses a zip bomb before inflating it', async () => {
    const error = await parseError({ path: 'bomb.docx', bytes: zipBombLike() });
    assert.match(error.message, /zip bomb/);
  });

  it('reports a corrupt DOCX', async () => {
    const error = await parseError({ path: 'broken.docx', bytes: truncatedCopy('docs-corpus/manuals/forklift-fl-25-manual.docx', 0.5) });
    assert.equal(error.code, 'KB_ERR_PARSE');
  });
});

describe('HTML parser', () => {
  it('drops navigation, scripts and footers and keeps the heading path and table rows', async () => {
    const document = await parseFile(corpus('manuals/laser-cutter-lc-3015.html'));
    assert.equal(document.title, 'LC-3015 Fiber Laser Cutter Manual');
    const text = document.sections.map((section) => section.text).join('\n');
    assert.ok(!text.includes('Intranet home'));
    assert.ok(!text.includes('analytics'));
    assert.ok(!text.includes('webmaster'));
    const faults = document.sections.find((section) => section.headings.at(-1) === 'Fault codes');
    assert.deepEqual(faults?.headings, ['LC-3015 Fiber Laser Cutter Manual', 'Fault codes']);
    assert.ok(faults?.text.includes('L-13 | Assist gas pressure low |'));
  });

  // Regression: only six entities were decoded, so &mdash;, &rsquo; and caf&eacute; reached answers raw.
  it('decodes every named and numeric entity', async () => {
    const html =
      '<html><head><title>Caf&eacute; rules</title></head><body><h1>Caf&eacute; &amp; canteen</h1><p>Open 11:30&ndash;14:00 &mdash; it&rsquo;s free&nbsp;on Fridays &hellip; &#x4e2d;&#25991; &copy; &lt;b&gt;</p></body></html>';
    const document = await parseFile({ path: 'cafe.html', bytes: Buffer.from(html) });
    assert.equal(document.title, 'Café rules');
    const text = document.sections.map((section) => section.text).join('\n');
    assert.match(text, /Open 11:30–14:00 — it’s free on Fridays … 中文 © <b>/);
    assert.doesNotMatch(text, /&[a-z]+;|&#/);
  });

  it('survives very deep nesting', async () => {
    const document = await parseFile({ path: 'deep.html', bytes: deeplyNestedHtml(5000) });
    assert.ok(document.sections.some((section) => section.text.includes('Deep text survives.')));
  });
});

describe('Markdown and text parsers', () => {
  // Regression: the Chinese Pinia docs title 112 sections "## 插件 %{#plugins}%"; citations showed the anchor.
  // Regression: the Pinia docs' ":::tip" containers reached answers as ":::tip If your app is using Vue <2.7 … :::".
  it('drops custom-container fences and keeps their content, their title and code blocks', async () => {
    const markdown = [
      '# Install',
      '',
      ':::tip',
      'If you use Nuxt, follow the Nuxt guide.',
      ':::',
      '',
      '::: warning 注意',
      '请先安装 composition api。',
      ':::',
      '',
      '```md',
      ':::tip',
      'kept in code',
      '```',
      '',
    ].join('\n');
    const document = await parseFile({ path: 'install.md', bytes: Buffer.from(markdown) });
    const text = document.sections.map((section) => section.text).join('\n');
    assert.match(text, /^If you use Nuxt, follow the Nuxt guide\.$/m);
    assert.match(text, /^注意\n+请先安装 composition api。$/m);
    assert.match(text, /^:::tip\nkept in code$/m);
    assert.equal(text.match(/:::/g)?.length, 1);
  });

  it('drops explicit heading anchors ({#id}, %{#id}%) from the heading path and the title', async () => {
    const markdown =
      '# Getter %{#getters}%\n\n## 访问其他 getter %{#accessing-other-getters}%\n\n与计算属性一样，你也可以组合多个 getter。\n\n## Plugins {#plugins}\n\nPlugins are added with pinia.use().\n';
    const document = await parseFile({ path: 'getters.md', bytes: Buffer.from(markdown) });
    assert.equal(document.title, 'Getter');
    assert.deepEqual(
      document.sections.map((section) => section.headings),
      [
        ['Getter', '访问其他 getter'],
        ['Getter', 'Plugins'],
      ],
    );
  });

  it('keeps the Markdown heading path', async () => {
    const document = await parseFile(corpus('it/vpn-faq.md'));
    const section = document.sections.find((item) => item.text.includes('Error 809 means'));
    assert.deepEqual(section?.headings, ['VPN: Frequently Asked Questions', 'The VPN says "Error 809" or cannot reach the server']);
  });

  it('reads front matter titles, tables and code blocks', async () => {
    const markdown = '---\ntitle: Front Title\n---\n# Heading\n\n| A | B |\n| --- | --- |\n| **x** | [link](http://e) |\n\n```\n# not a heading\n```\n';
    const document = await parseFile({ path: 'front.md', bytes: Buffer.from(markdown) });
    assert.equal(document.title, 'Front Title');
    assert.equal(document.sections.length, 1);
    assert.equal(document.sections[0]!.text, 'A | B\nx | link\n\n# not a heading');
  });

  // Regression: the line parser kept HTML comments and multi-line tags ("What is a Pinia getter?" was answered with
  // `href="https://vueschool.io/…" title="…"`), and hard-wrapped lines stayed separate lines.
  it('drops HTML comments, multi-line tags and components, keeps numbered steps, code and wrapped sentences whole', async () => {
    const markdown = [
      '# Getters',
      '',
      '<!-- a comment that must not leak',
      'over two lines -->',
      '',
      'Getters are the equivalent of computed values. See the <a href="https://vueschool.io/lessons/getters"',
      '  title="Learn about getters">free video</a> on caf&eacute; &mdash; it&rsquo;s short.',
      '',
      '<VueSchoolLink',
      '  href="https://vueschool.io/lessons/getters"',
      '  title="Learn about getters in Pinia"',
      '/>',
      '',
      '1. Open the client.',
      '2. Go to Settings.',
      '3. Switch to TCP.',
      '4. Connect again.',
      '',
      '```sh',
      'vpn-cli --reset --protocol tcp',
      '```',
      '',
      '员工每年享有 15 个工作日',
      '带薪年假。',
      '',
    ].join('\n');
    const document = await parseFile({ path: 'getters.md', bytes: Buffer.from(markdown) });
    const text = document.sections.map((section) => section.text).join('\n');
    assert.doesNotMatch(text, /href|title=|<!--|comment|VueSchoolLink|&[a-z]+;/);
    assert.match(text, /Getters are the equivalent of computed values\. See the free video on café — it’s short\./);
    assert.match(text, /1\. Open the client\.\n2\. Go to Settings\.\n3\. Switch to TCP\.\n4\. Connect again\./);
    assert.match(text, /^vpn-cli --reset --protocol tcp$/m);
    assert.match(text, /员工每年享有 15 个工作日带薪年假。/);
  });

  // Regression: in hard-wrapped text every line break ended a sentence, so "Servers MUST NOT use any value greater
  // than" / "604800 seconds (7 days)." were two sentences; RFC page headers and footers were answered as text.
  it('joins hard-wrapped sentences and drops the running headers and footers of paginated text', async () => {
    const page = (number: number, body: string[]) =>
      ['', 'RFC 8446                           TLS                       August 2018', '', ...body, '', '', `Rescorla                     Standards Track                  [Page ${number}]`].join(
        '\n',
      );
    const body = (section: string, topic: string) => [
      `${section}.  ${topic}`,
      '',
      `   For ${topic.toLowerCase()}, servers can use the "ticket_lifetime" value to state how`,
      `   long a ${topic.toLowerCase()} ticket may be kept.  Servers MUST NOT use any value greater than`,
      '   604800 seconds (7 days).  The value of zero indicates that the ticket',
      '   should be discarded immediately.',
      '',
      `   - ${topic} item one`,
      `   - another ${topic.toLowerCase()} item`,
    ];
    const pages = [page(41, ['Network Working Group', '', ...body('4.6.1', 'New Session Ticket Message')]), page(42, body('4.6.2', 'Lifetime Rules')), page(43, body('4.6.3', 'Resumption'))];
    const document = await parseFile({ path: 'rfc8446.txt', bytes: Buffer.from(pages.join('\f')) });
    const all = document.sections.map((section) => section.text).join('\n');
    assert.doesNotMatch(all, /RFC 8446 {3,}TLS|Standards Track|\[Page \d+\]/);
    assert.equal(all.match(/Servers MUST NOT use any value greater than 604800 seconds \(7 days\)\./g)?.length, 3);
    assert.match(all, /^ *- Resumption item one\n *- another resumption item$/m, 'short lines are not joined');
    assert.deepEqual(
      document.sections.map((section) => section.headings.at(-1)),
      ['4.6.1.  New Session Ticket Message', '4.6.2.  Lifetime Rules', '4.6.3.  Resumption'],
    );
  });

  // Regression: book-class PDFs (the Debian FAQ) print "CHAPTER 7. BASICS OF … 7.12. HOW DO I PUT A PACKAGE ON HOLD?"
  // at the top of each page. It never repeats whole, so it stayed in the text, matched the question better than the
  // section itself, and an unrelated list on that page was answered.
  it('drops running headers in capitals that name the current section', async () => {
    const header = (chapter: number, section: string) => `CHAPTER ${chapter}. BASICS OF THE PACKAGE SYSTEM … ${section.toUpperCase()}`;
    const pages = [
      ['7.11 What is meant by hold?', 'The hold state keeps a package at its version.', 'ABC codes stay in capitals here.'],
      [header(7, '7.12. How do I put a package on hold?'), 'Run apt-mark hold with the package name.', '31'],
      [header(7, '7.13. How do I build a package?'), 'Use dpkg-buildpackage in the source tree.', '32'],
      [header(8, '8.1. What other tools exist?'), 'SOME CAPITALS IN THE BODY ARE KEPT.', 'Aptitude and synaptic are front ends.', '33'],
    ].map((lines) => lines.join('\n'));
    const document = await parseFile({ path: 'faq.txt', bytes: Buffer.from(pages.join('\f')) });
    const all = document.sections.map((section) => section.text).join('\n');
    assert.doesNotMatch(all, /CHAPTER|BASICS OF/);
    assert.match(all, /SOME CAPITALS IN THE BODY ARE KEPT\./);
    assert.match(all, /Run apt-mark hold with the package name\./);
  });

  // Regression: NIST SP 800-63B pages start with a seven-line header (title, page number, a notice whose URL pdf.js
  // breaks over four lines); only four lines were searched, so "s://doi.org/10.6028/ NIST.SP.800 -63b" began chunks.
  it('drops a running header of seven lines, and keeps a repeated body line below it', async () => {
    const header = (page: number) => [
      'NIST SP 800-63B DIGITAL IDENTITY GUIDELINES:',
      'AUTHENTICATION & LIFECYCLE MANAGEMENT',
      String(page),
      'This publication is available free of charge from: http',
      's://doi.org/10.6028/',
      'NIST.SP.800',
      '-63b',
    ];
    const pages = [1, 2, 3].map((page) =>
      [
        ...header(page + 9),
        `Section ${page} states its own requirement.`.replace(String(page), ['one', 'two', 'three'][page - 1]!),
        'Verifiers SHALL NOT impose other composition rules.',
        ...['alpha', 'beta', 'gamma'].map((word) => `The ${word} rule of part ${['one', 'two', 'three'][page - 1]} applies.`),
      ].join('\n'),
    );
    const document = await parseFile({ path: 'sp800-63b.txt', bytes: Buffer.from(pages.join('\f')) });
    const all = document.sections.map((section) => section.text).join('\n');
    assert.doesNotMatch(all, /doi\.org|NIST\.SP\.800|-63b|free of charge|LIFECYCLE/);
    assert.equal(all.match(/Verifiers SHALL NOT impose other composition rules\./g)?.length, 3);
  });

  it('decodes GBK text files', async () => {
    const document = await parseFile({ path: 'legacy.txt', bytes: gbkText() });
    assert.equal(document.sections[0]?.text, '故障代码 E-104：主轴编码器信号丢失');
    assert.equal(document.language, 'zh');
  });

  it('reads a UTF-8 file with stray invalid bytes, and a file that mixes UTF-8 and GBK lines', async () => {
    const broken = Buffer.concat([
      Buffer.from('# 主轴维护\n\n每月检查主轴'),
      Buffer.from([0xff, 0xc3]),
      Buffer.from('润滑油位。油位低于刻度线时，按照保养手册第三章加注指定型号的润滑油，并记录在设备保养记录表中。\n'),
    ]);
    const brokenDocument = await parseFile({ path: 'broken.md', bytes: broken });
    assert.equal(brokenDocument.title, '主轴维护');
    assert.match(brokenDocument.sections[0]!.text, /^每月检查主轴\uFFFD+润滑油位。油位低于刻度线时，.*记录表中。$/);
    // gbkText() is "故障代码 E-104：主轴编码器信号丢失" in GBK.
    const mixed = Buffer.concat([Buffer.from('维护记录 UTF-8 行\n'), gbkText(), Buffer.from('\n最后一行\n')]);
    const mixedDocument = await parseFile({ path: 'mixed.txt', bytes: mixed });
    assert.equal(mixedDocument.sections.map((section) => section.text).join('\n'), '维护记录 UTF-8 行\n故障代码 E-104：主轴编码器信号丢失\n最后一行');
  });

  it('refuses binary content named .md and empty files', async () => {
    assert.match((await parseError({ path: 'garbage.md', bytes: binaryGarbage() })).message, /binary/);
    assert.match((await parseError({ path: 'empty.txt', bytes: Buffer.alloc(0) })).message, /empty/);
  });

  it('detects a PDF by its content whatever its extension, and refuses unknown formats', async () => {
    const document = await parseFile({ path: 'misnamed.txt', bytes: readFileSync('docs-corpus/hr/travel-and-expenses.pdf') });
    assert.equal(document.format, 'pdf');
    assert.equal((await parseError({ path: 'notes.odt', bytes: Buffer.from('a,b') })).code, 'KB_ERR_UNSUPPORTED_FORMAT');
  });
});
