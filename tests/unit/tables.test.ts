// Spreadsheets and CSV files, generated here with a real writer (exceljs) and real encodings: every row is written
// with its column names and located by sheet and rows, merged cells repeat their value, a numeric cell reads as the
// sheet shows it, an empty row separates two tables with their own headers, and a GB18030 CSV reads as Chinese.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import ExcelJS from 'exceljs';
import { KnowledgeBase } from '../../src/knowledge-base.ts';
import { detectFormat, parseFile } from '../../src/ingest/parsers/index.ts';
import { READ_EVERYTHING } from '../../src/retrieve/read-scope.ts';
import { testConfig } from '../helpers/knowledge-base.ts';
import { silentLogger, temporaryDirectory } from '../helpers/temp.ts';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

async function faultWorkbook(): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const faults = workbook.addWorksheet('Fault codes');
  faults.addRow(['HL-400 lathe: fault codes (revision 3)']);
  faults.addRow([]);
  faults.addRow(['Code', 'Meaning', 'Action', 'Max temp']);
  faults.addRow(['E-104', 'Spindle overheat', 'Stop the spindle and check the coolant pump', 0.85]);
  faults.addRow(['E-207', 'Tool changer jam', 'Clear the carousel, then home the changer', 0.4]);
  faults.addRow(['E-311', 'Hydraulic pressure low', 'Top up the hydraulic oil to the MAX mark', 0.6]);
  for (const row of [4, 5, 6]) faults.getCell(`D${row}`).numFmt = '0%';
  faults.addRow([]);
  faults.addRow(['Part', 'Supplier']);
  faults.addRow(['Coolant pump CP-9', 'Nordhydraulik GmbH']);
  // A merged cell over two rows: its value belongs to both.
  faults.addRow(['Carousel gripper', 'Toolmatic']);
  faults.addRow(['Gripper spring', '']);
  faults.mergeCells('B10:B11');
  // A formula with its cached result, a hyperlink, an error value and a date: each as the sheet shows it.
  const extra = workbook.addWorksheet('Service log');
  extra.addRow(['Date', 'Hours', 'Manual', 'Check']);
  extra.addRow([new Date(Date.UTC(2026, 2, 14)), { formula: 'SUM(2,3)', result: 5 }, { text: 'HL-400 manual', hyperlink: 'https://intranet.example/hl400' }, { error: '#N/A' }]);
  const hidden = workbook.addWorksheet('Scratch', { state: 'hidden' });
  hidden.addRow(['Secret', 'draft']);
  hidden.addRow(['do not index', 'this sheet']);
  const chinese = workbook.addWorksheet('报警代码');
  chinese.addRow(['代码', '含义', '处理']);
  chinese.addRow(['M-05', '注塑机料筒温度过高', '降低加热区设定温度并检查热电偶']);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

describe('spreadsheets and CSV files', () => {
  it('writes every row with its column names, located by sheet and rows, as the sheet shows it', async () => {
    const document = await parseFile({ path: 'lathe-faults.xlsx', bytes: await faultWorkbook() });
    assert.equal(document.format, 'spreadsheet');
    assert.equal(document.title, 'lathe-faults');
    const byText = (needle: string) => document.sections.find((section) => section.text.includes(needle));
    assert.deepEqual(byText('HL-400 lathe')?.headings, ['Fault codes', 'row 1']);
    const codes = byText('E-104')!;
    assert.deepEqual(codes.headings, ['Fault codes', 'rows 4–6']);
    assert.match(codes.text, /^Code: E-104 · Meaning: Spindle overheat · Action: Stop the spindle and check the coolant pump · Max temp: 85%$/m);
    assert.match(codes.text, /^Code: E-311 · Meaning: Hydraulic pressure low/m);
    const parts = byText('Coolant pump CP-9')!;
    assert.deepEqual(parts.headings, ['Fault codes', 'rows 9–11']);
    assert.match(parts.text, /^Part: Coolant pump CP-9 · Supplier: Nordhydraulik GmbH$/m);
    assert.match(parts.text, /^Part: Gripper spring · Supplier: Toolmatic$/m, 'the merged cell repeats its value');
    assert.ok(!document.sections.some((section) => section.text.includes('do not index')), 'hidden sheets are skipped');
    assert.equal(byText('HL-400 manual')?.text, 'Date: 2026-03-14 · Hours: 5 · Manual: HL-400 manual · Check: #N/A');
    assert.ok(!document.sections.some((section) => section.text.includes('[object')));
    assert.deepEqual(byText('M-05')?.headings, ['报警代码', '第 2 行'], 'each sheet says where in its own language');
    assert.match(byText('M-05')!.text, /代码: M-05 · 含义: 注塑机料筒温度过高/);
  });

  it('reads CSV in UTF-8 with a BOM, with semicolons, and in GB18030', async () => {
    const utf8 = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('Code,Meaning\r\nP-12,"Printer offline, check the cable"\r\n')]);
    const parsed = await parseFile({ path: 'printers.csv', bytes: utf8 });
    assert.equal(parsed.format, 'csv');
    assert.deepEqual(
      parsed.sections.map((section) => [section.headings, section.text]),
      [[['printers.csv', 'row 2'], 'Code: P-12 · Meaning: Printer offline, check the cable']],
    );
    const semicolons = await parseFile({ path: 'parts.csv', bytes: Buffer.from('Teil;Lieferant\nPumpe;Nord\n') });
    assert.equal(semicolons.sections[0]!.text, 'Teil: Pumpe · Lieferant: Nord');
    const gb18030 = Buffer.from(new Uint8Array([0xb4, 0xfa, 0xc2, 0xeb, 0x2c, 0xba, 0xac, 0xd2, 0xe5, 0x0a, 0x4d, 0x2d, 0x30, 0x35, 0x2c, 0xce, 0xc2, 0xb6, 0xc8, 0xb9, 0xfd, 0xb8, 0xdf, 0x0a]));
    const chinese = await parseFile({ path: '报警.csv', bytes: gb18030 });
    assert.equal(chinese.language, 'zh');
    assert.equal(chinese.sections[0]!.text, '代码: M-05 · 含义: 温度过高');
    assert.deepEqual(chinese.sections[0]!.headings, ['报警.csv', '第 2 行'], 'a Chinese table says where in Chinese');
  });

  it('refuses a ZIP named .xlsx that is not a workbook, and a workbook named .csv is read as a workbook', async () => {
    const workbook = await faultWorkbook();
    assert.equal(detectFormat({ path: 'faults.csv', bytes: workbook }), 'spreadsheet');
    await assert.rejects(parseFile({ path: 'faults.xlsx', bytes: Buffer.from('Code,Meaning\nE-1,x\n') }), /not an XLSX file/);
    await assert.rejects(parseFile({ path: 'empty.csv', bytes: Buffer.from('\n\n') }), /no text/);
  });

  it('answers from a row of a workbook, citing the sheet and its rows', async () => {
    const folder = temporaryDirectory();
    writeFileSync(path.join(folder, 'lathe-faults.xlsx'), await faultWorkbook());
    const knowledgeBase = await KnowledgeBase.open(testConfig({ KB_DATA_DIR: temporaryDirectory() }), silentLogger);
    try {
      const summary = await knowledgeBase.ingest([folder], { baseDir: folder });
      assert.deepEqual([summary.added, summary.failed.length], [1, 0]);
      const result = await knowledgeBase.ask({ question: 'What should I do about fault E-207 on the HL-400?', scope: READ_EVERYTHING });
      assert.equal(result.answerable, true);
      assert.match(result.answer, /carousel/i);
      assert.ok(
        result.citations.some((entry) => entry.source === 'lathe-faults.xlsx' && entry.headings?.join(' > ') === 'Fault codes > rows 4–6'),
        JSON.stringify(result.citations),
      );
    } finally {
      await knowledgeBase.close();
    }
  });
});
