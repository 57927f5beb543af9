// Reading the pages of a file that have no text layer, within the file's OCR limits: the page budget and the time
// limit. Pages past either are left out with a warning that names them, never failing the pages already read.
import { DEFAULT_OCR_OPTIONS, OcrTimeout, pageTextOf, readPageImage } from './ocr.ts';
import type { ParseContext } from '../types.ts';

export interface ScannedPage {
  /** 1-based page number in the file. */
  num: number;
  /** Renders or decodes the page image, only when it is read. */
  image: () => Promise<Uint8Array>;
}

export interface ReadPages {
  texts: Map<number, string>;
  warnings: string[];
}

/** "page 4 was", "pages 2–5, 9 were" */
function pagesWere(numbers: readonly number[]): string {
  return `${pageList(numbers)} ${numbers.length === 1 ? 'was' : 'were'}`;
}

/** "page 4", "pages 2–5, 9" */
export function pageList(numbers: readonly number[]): string {
  const ranges: string[] = [];
  for (let index = 0; index < numbers.length;) {
    let end = index;
    while (end + 1 < numbers.length && numbers[end + 1] === numbers[end]! + 1) end++;
    ranges.push(end > index ? `${numbers[index]}–${numbers[end]}` : String(numbers[index]));
    index = end + 1;
  }
  return `${numbers.length === 1 ? 'page' : 'pages'} ${ranges.join(', ')}`;
}

export async function readScannedPages(pages: readonly ScannedPage[], file: string, context: ParseContext | undefined): Promise<ReadPages> {
  const options = context?.ocr ?? DEFAULT_OCR_OPTIONS;
  const texts = new Map<number, string>();
  const warnings: string[] = [];
  const budgeted = pages.slice(0, options.maxPages);
  if (options.maxPages === 0) {
    if (pages.length > 0) warnings.push(`${pagesWere(pages.map((page) => page.num))} not read (no text layer): OCR is turned off (KB_OCR_MAX_PAGES=0)`);
    return { texts, warnings };
  }
  const deadline = performance.now() + options.fileSeconds * 1000;
  let done = 0;
  context?.onOcrPage?.(0, budgeted.length);
  for (const [index, page] of budgeted.entries()) {
    try {
      const lines = await readPageImage(await page.image(), { file, deadline });
      texts.set(page.num, pageTextOf(lines));
    } catch (error) {
      if (!(error instanceof OcrTimeout)) throw error;
      const unread = budgeted.slice(index).map((left) => left.num);
      warnings.push(`${pagesWere(unread)} not read: the file's OCR time (KB_OCR_FILE_SECONDS=${options.fileSeconds}) ran out`);
      break;
    }
    context?.onOcrPage?.(++done, budgeted.length);
  }
  if (pages.length > budgeted.length) {
    warnings.push(`${pagesWere(pages.slice(budgeted.length).map((page) => page.num))} not read: over the OCR page budget (KB_OCR_MAX_PAGES=${options.maxPages})`);
  }
  return { texts, warnings };
}
