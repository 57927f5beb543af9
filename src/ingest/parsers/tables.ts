// Spreadsheets (XLSX) and CSV files: fault-code tables, parts lists, contact sheets. A row must be understood alone
// when it is retrieved alone, so every row is written with its column names ("Code: E-104 · Meaning: spindle
// overheat · Action: …"), and rows are grouped into sections of at most ROWS_SECTION_TOKENS whose heading path is the
// sheet's name and the rows they hold ("Faults", "rows 2–14"): the citation shows where in the workbook the answer is.
// The header row is the first row with at least two cells that are mostly words; rows above it (a title, notes) are
// text of their own, and an empty row ends a table (the next non-empty row may start another one, with its header).
// Cells are taken as the sheet shows them (formatted numbers and dates), and a merged cell's value is repeated into
// every row it covers.
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { KbError, describeError } from '../../errors.ts';
import { detectLanguage, type Language } from '../../text/language.ts';
import { countTokens } from '../../text/tokenize.ts';
import type { Parser, Section } from '../types.ts';
import { decodeText } from './encoding.ts';
import { assertZipWithinLimits } from './zip.ts';

/** Tokens of table text per section (50..1000): below the default chunk size, so that a section is one chunk. */
const ROWS_SECTION_TOKENS = 220;
/** A header row has at least this share of its non-empty cells that are not numbers (0.5..1). */
const HEADER_WORD_SHARE = 0.75;

type Row = string[];

function isNumberLike(cell: string): boolean {
  return /^[-+]?[\d.,\s%:/$€¥]+$/.test(cell);
}

function looksLikeHeader(row: Row): boolean {
  const cells = row.filter((cell) => cell.length > 0);
  if (cells.length < 2) return false;
  return cells.filter((cell) => !isNumberLike(cell)).length / cells.length >= HEADER_WORD_SHARE;
}

const isEmpty = (row: Row) => row.every((cell) => cell.length === 0);

/** Where rows are, in the document's language: the citation shows it. */
function rowsLabel(first: number, last: number, language: Language): string {
  if (language === 'zh') return first === last ? `第 ${first} 行` : `第 ${first}–${last} 行`;
  return first === last ? `row ${first}` : `rows ${first}–${last}`;
}

/** One sheet's rows as sections: tables (a header and the rows under it) and the loose lines around them. */
export function sheetSections(sheetName: string, rows: readonly Row[], language: Language = 'en'): Section[] {
  const sections: Section[] = [];
  let header: Row | undefined;
  let pending: { lines: string[]; first: number; last: number; tokens: number } | undefined;
  const flush = () => {
    if (!pending || pending.lines.length === 0) return;
    sections.push({ text: pending.lines.join('\n'), headings: [sheetName, rowsLabel(pending.first, pending.last, language)] });
    pending = undefined;
  };
  for (const [index, raw] of rows.entries()) {
    const rowNumber = index + 1;
    const row = raw.map((cell) => cell.replace(/\s+/g, ' ').trim());
    if (isEmpty(row)) {
      // An empty row separates tables: the next one has its own header.
      flush();
      header = undefined;
      continue;
    }
    if (!header && looksLikeHeader(row)) {
      flush();
      header = row;
      continue;
    }
    const line = header
      ? row
          .map((cell, column) => (cell.length === 0 ? undefined : header![column] ? `${header![column]}: ${cell}` : cell))
          .filter((part): part is string => part !== undefined)
          .join(' · ')
      : row.filter((cell) => cell.length > 0).join(' · ');
    const tokens = countTokens(line);
    if (pending && pending.tokens + tokens > ROWS_SECTION_TOKENS) flush();
    pending ??= { lines: [], first: rowNumber, last: rowNumber, tokens: 0 };
    pending.lines.push(line);
    pending.last = rowNumber;
    pending.tokens += tokens;
  }
  flush();
  return sections;
}

/**
 * A cell's text as the sheet shows it. exceljs gives the raw value and its number format: the formats of tables
 * people keep (percentages, fixed decimals, thousands separators, dates) are applied here; others keep the value.
 */
function shownText(value: unknown, format: string | undefined): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return /h|s/i.test(format ?? '') ? value.toISOString().slice(0, 16).replace('T', ' ') : value.toISOString().slice(0, 10);
  if (typeof value === 'number' && format && format !== 'General') {
    const section = format.split(';')[0]!.replace(/"[^"]*"|\\.|\[[^\]]*\]/g, '');
    const decimals = /0\.(0+)/.exec(section)?.[1]?.length ?? 0;
    const grouped = section.includes('#,##');
    if (section.includes('%')) return `${(value * 100).toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals, useGrouping: grouped })}%`;
    if (/[0#]/.test(section)) return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals, useGrouping: grouped });
  }
  if (typeof value === 'object') {
    // Rich text, hyperlinks and formulas: their text or their result.
    const object = value as { richText?: { text: string }[]; text?: unknown; result?: unknown; error?: unknown; formula?: unknown; sharedFormula?: unknown };
    if (object.richText) return object.richText.map((part) => part.text).join('');
    if (object.result !== undefined) return shownText(object.result, format);
    if (typeof object.text === 'string') return object.text;
    if (typeof object.error === 'string') return object.error;
    // A formula the file holds no result for shows nothing rather than "[object Object]".
    if (object.formula !== undefined || object.sharedFormula !== undefined) return '';
  }
  return String(value);
}

function documentOf(file: string, format: 'spreadsheet' | 'csv', sheets: { name: string; rows: Row[] }[]) {
  const textOf = (sheet: { name: string; rows: Row[] }) => [sheet.name, ...sheet.rows.map((row) => row.join(' '))].join('\n');
  // Each sheet says where its rows are in its own language; the document's language is that of all of them.
  const sections = sheets.flatMap((sheet) => sheetSections(sheet.name, sheet.rows, detectLanguage(textOf(sheet))));
  const language = detectLanguage(sheets.map(textOf).join('\n'));
  if (sections.length === 0) throw new KbError('KB_ERR_PARSE', { file, reason: 'the document has no text' });
  const title = path.basename(file, path.extname(file));
  return { title, language, format, sections };
}

export const parseCsvFile: Parser = async (file) => {
  const text = decodeText(file.bytes, file.path);
  let rows: Row[];
  try {
    // The delimiter is the one of , ; tab that splits the first line into most cells.
    const firstLine = text.split('\n', 1)[0] ?? '';
    const delimiter = [',', ';', '\t'].reduce((best, candidate) => (firstLine.split(candidate).length > firstLine.split(best).length ? candidate : best), ',');
    rows = parseCsv(text, { delimiter, relax_column_count: true, relax_quotes: true, skip_empty_lines: false, bom: true }) as Row[];
  } catch (error) {
    throw new KbError('KB_ERR_PARSE', { file: file.path, reason: `not a readable CSV file: ${describeError(error)}` });
  }
  return documentOf(file.path, 'csv', [{ name: path.basename(file.path), rows }]);
};

export const parseSpreadsheet: Parser = async (file) => {
  // A ZIP bomb is refused before anything is inflated.
  assertZipWithinLimits(file.bytes, file.path);
  const { default: ExcelJS } = await import('exceljs');
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(file.bytes as unknown as ArrayBuffer);
  } catch (error) {
    throw new KbError('KB_ERR_PARSE', { file: file.path, reason: `not a readable XLSX workbook: ${describeError(error)}` });
  }
  const sheets: { name: string; rows: Row[] }[] = [];
  workbook.eachSheet((worksheet) => {
    if (worksheet.state !== 'visible') return;
    const rows: Row[] = [];
    const columns = worksheet.actualColumnCount > 0 ? worksheet.columnCount : 0;
    for (let rowNumber = 1; rowNumber <= worksheet.rowCount; rowNumber++) {
      const row = worksheet.getRow(rowNumber);
      const cells: string[] = [];
      for (let column = 1; column <= columns; column++) {
        const cell = row.getCell(column);
        // A merged cell reads as its master's text in every row and column it covers; the text is what the sheet shows.
        const source = cell.isMerged ? cell.master : cell;
        cells.push(shownText(source.value, source.numFmt));
      }
      rows.push(cells);
    }
    sheets.push({ name: worksheet.name, rows });
  });
  return documentOf(file.path, 'spreadsheet', sheets);
};
