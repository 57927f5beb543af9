// PowerPoint decks generated with a real writer (pptxgenjs): a section per slide located by its number and title,
// text in reading order, tables as "column: value" rows, speaker notes; hidden slides skipped; Chinese slides read as
// Chinese; a ZIP that is not a deck refused; and an answer cited to its slide.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import pptxgenModule from 'pptxgenjs';
import { parseFile } from '../../src/ingest/parsers/index.ts';
import { KnowledgeBase } from '../../src/knowledge-base.ts';
import { READ_EVERYTHING } from '../../src/retrieve/read-scope.ts';
import { testConfig } from '../helpers/knowledge-base.ts';
import { silentLogger, temporaryDirectory } from '../helpers/temp.ts';

// The package's types declare an ES default export; under Node's CommonJS interop the class is that default's default.
const PptxGenJS = ((pptxgenModule as unknown as { default?: unknown }).default ?? pptxgenModule) as unknown as typeof pptxgenModule.default;

async function trainingDeck(): Promise<Buffer> {
  const deck = new PptxGenJS();
  const cover = deck.addSlide();
  cover.addText('Forklift safety training', { x: 0.5, y: 0.5, w: 9, h: 1, fontSize: 32 });
  const checks = deck.addSlide();
  // Placed out of order in the file: the reading order follows the page, top to bottom.
  checks.addText('3. Test the horn and the lights.', { x: 0.5, y: 3.5, w: 9, h: 0.5 });
  checks.addText('Daily checks before a shift', { x: 0.5, y: 0.3, w: 9, h: 0.8, fontSize: 28 });
  checks.addText('1. Walk around the truck and look for leaks.\n2. Check the fork tips for cracks.', { x: 0.5, y: 1.5, w: 9, h: 1.5 });
  checks.addNotes('Remind everyone that a cracked fork tip takes the truck out of service at once.');
  const codes = deck.addSlide();
  codes.addText('Battery charger codes', { x: 0.5, y: 0.3, w: 9, h: 0.8 });
  codes.addTable(
    [
      [{ text: 'Code' }, { text: 'Meaning' }],
      [{ text: 'F-31' }, { text: 'Cell too warm: let it cool for an hour' }],
      [{ text: 'F-44' }, { text: 'Charger fan blocked' }],
    ],
    { x: 0.5, y: 1.5, w: 9 },
  );
  const hidden = deck.addSlide();
  hidden.hidden = true;
  hidden.addText('Draft slide, not for the knowledge base', { x: 0.5, y: 0.5, w: 9, h: 1 });
  const chinese = deck.addSlide();
  chinese.addText('叉车充电规定', { x: 0.5, y: 0.3, w: 9, h: 0.8 });
  chinese.addText('充电区禁止吸烟，充电时必须打开通风设备。', { x: 0.5, y: 1.5, w: 9, h: 1 });
  return Buffer.from((await deck.write({ outputType: 'nodebuffer' })) as ArrayBuffer);
}

describe('PowerPoint decks', () => {
  it('reads each slide in reading order with its tables and notes, located by slide number', async () => {
    const document = await parseFile({ path: 'forklift-training.pptx', bytes: await trainingDeck() });
    assert.equal(document.format, 'slides');
    assert.equal(document.pageCount, 5);
    const slide = (number: number) => document.sections.find((section) => section.headings[0] === `Slide ${number}`);
    assert.equal(document.title, 'Forklift safety training');
    assert.deepEqual(slide(1)?.headings, ['Slide 1', 'Forklift safety training']);
    assert.deepEqual(slide(3)?.headings, ['Slide 3', 'Battery charger codes']);
    assert.match(slide(1)!.text, /Forklift safety training/);
    const checks = slide(2)!;
    const lines = checks.text.split('\n');
    assert.ok(lines.indexOf('1. Walk around the truck and look for leaks.') < lines.indexOf('3. Test the horn and the lights.'), checks.text);
    assert.match(checks.text, /Notes: Remind everyone that a cracked fork tip/);
    assert.match(slide(3)!.text, /^Code: F-31 · Meaning: Cell too warm: let it cool for an hour$/m);
    assert.equal(slide(4), undefined, 'the hidden slide is skipped');
    assert.ok(!document.sections.some((section) => section.text.includes('Draft slide')));
    assert.match(slide(5)!.text, /充电区禁止吸烟/);
  });

  it('says where in a Chinese deck in Chinese', async () => {
    const deck = new PptxGenJS();
    deck.addSlide().addText('叉车充电规定', { x: 0.5, y: 0.3, w: 9, h: 0.8 });
    const second = deck.addSlide();
    second.addText('充电安全', { x: 0.5, y: 0.3, w: 9, h: 0.8 });
    second.addText('充电区禁止吸烟，充电时必须打开通风设备。', { x: 0.5, y: 1.5, w: 9, h: 1 });
    const document = await parseFile({ path: '充电.pptx', bytes: Buffer.from((await deck.write({ outputType: 'nodebuffer' })) as ArrayBuffer) });
    assert.equal(document.language, 'zh');
    assert.deepEqual(document.sections[1]!.headings, ['第 2 张幻灯片', '充电安全']);
  });

  it('refuses a ZIP that is not a deck and a deck named otherwise is still read as one', async () => {
    await assert.rejects(parseFile({ path: 'talk.pptx', bytes: Buffer.from('not a deck at all') }), /not a PPTX file/);
    const document = await parseFile({ path: 'renamed.docx', bytes: await trainingDeck() });
    assert.equal(document.format, 'slides');
  });

  it('answers from a slide and cites it by number', async () => {
    const folder = temporaryDirectory();
    writeFileSync(path.join(folder, 'forklift-training.pptx'), await trainingDeck());
    const knowledgeBase = await KnowledgeBase.open(testConfig({ KB_DATA_DIR: temporaryDirectory() }), silentLogger);
    try {
      const summary = await knowledgeBase.ingest([folder], { baseDir: folder });
      assert.deepEqual([summary.added, summary.failed.length], [1, 0]);
      const result = await knowledgeBase.ask({ question: 'What does charger code F-44 mean?', scope: READ_EVERYTHING });
      assert.equal(result.answerable, true);
      assert.match(result.answer, /fan/i);
      assert.ok(
        result.citations.some((citation) => citation.source === 'forklift-training.pptx' && citation.headings?.[0] === 'Slide 3'),
        JSON.stringify(result.citations),
      );
    } finally {
      await knowledgeBase.close();
    }
  });
});
