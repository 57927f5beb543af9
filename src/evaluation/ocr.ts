// The OCR figure: scans of known text (src/evaluation/synthetic-scans.ts) read back, and compared with what was drawn.
// Character accuracy is 1 − (edit distance / characters), without whitespace (Chinese has none; a lost space is not a
// misread character). Word accuracy (English) is the same over words, so a lost space counts: "hydraulicoil" is two
// errors, and a search for "oil" would miss it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseFile } from '../ingest/parsers/index.ts';
import { layoutPages, scannedPage, type ScanOptions } from './synthetic-scans.ts';

/** Levenshtein distance between two sequences (two rows: pages are a few thousand characters). */
export function editDistance<T>(a: readonly T[], b: readonly T[]): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    [previous, current] = [current, previous];
  }
  return previous[b.length]!;
}

export function characterAccuracy(reference: string, read: string): number {
  const expected = [...reference.replace(/\s+/g, '')];
  const got = [...read.replace(/\s+/g, '')];
  return expected.length === 0 ? 1 : Math.max(0, 1 - editDistance(expected, got) / expected.length);
}

export function wordAccuracy(reference: string, read: string): number {
  const expected = reference.split(/\s+/).filter(Boolean);
  const got = read.split(/\s+/).filter(Boolean);
  return expected.length === 0 ? 1 : Math.max(0, 1 - editDistance(expected, got) / expected.length);
}

/** Our own documents in each language, as plain paragraphs (the text to draw). */
const SOURCES = {
  en: ['docs-corpus/maintenance/crane-inspection-checklist.txt', 'docs-corpus/it/vpn-faq.md', 'docs-corpus/hr/employee-handbook-leave.md', 'docs-corpus/it/password-policy.md'],
  zh: [
    'docs-corpus/maintenance/压力容器定期检验.txt',
    'docs-corpus/it/VPN使用指南.md',
    'docs-corpus/hr/员工手册-休假制度.md',
    'docs-corpus/maintenance/设备点检规程.md',
    'docs-corpus/hr/安全生产守则.txt',
    'docs-corpus/it/账号与密码管理.txt',
  ],
} as const;

export async function sourceParagraphs(language: keyof typeof SOURCES, root = '.'): Promise<string[]> {
  const paragraphs: string[] = [];
  for (const file of SOURCES[language]) {
    const document = await parseFile({ path: file, bytes: readFileSync(path.join(root, file)) });
    for (const section of document.sections) {
      for (const paragraph of section.text.split(/\n\s*\n|\n(?=[-*•]|\d+[.)、])/)) {
        const text = paragraph
          .replace(/\s*\n\s*/g, ' ')
          .replace(/\s+/g, ' ')
          .trim();
        if (text) paragraphs.push(text);
      }
    }
  }
  return paragraphs;
}

export interface OcrPageOutcome {
  language: string;
  page: number;
  characters: number;
  characterAccuracy: number;
  wordAccuracy: number;
  seconds: number;
}

/** Pages of known text in a language, scanned with `scan`, each read by `read`. */
export async function evaluateOcr(
  language: 'en' | 'zh',
  read: (image: Buffer) => Promise<string>,
  options: { pages: number; scan?: ScanOptions; onPage?: (done: number) => void },
): Promise<OcrPageOutcome[]> {
  const pages = layoutPages(await sourceParagraphs(language), options.scan?.fontSize).slice(0, options.pages);
  const outcomes: OcrPageOutcome[] = [];
  for (const [index, lines] of pages.entries()) {
    const image = await scannedPage(lines, options.scan);
    const started = performance.now();
    const text = await read(image);
    const seconds = (performance.now() - started) / 1000;
    const reference = lines.join('\n');
    outcomes.push({
      language,
      page: index + 1,
      characters: reference.replace(/\s+/g, '').length,
      characterAccuracy: characterAccuracy(reference, text),
      wordAccuracy: wordAccuracy(reference, text),
      seconds,
    });
    options.onPage?.(index + 1);
  }
  return outcomes;
}
