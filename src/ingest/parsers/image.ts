// Pictures of text: PNG, JPEG and TIFF (every page of a multi-page TIFF, as a fax or a scanner writes them), read by
// OCR. The text goes through the same page layout as a PDF's (running lines, wrapped lines, numbered headings).
import path from 'node:path';
import sharp from 'sharp';
import { KbError, describeError } from '../../errors.ts';
import { detectLanguage } from '../../text/language.ts';
import { readScannedPages } from '../ocr/scanned-pages.ts';
import type { Parser } from '../types.ts';
import { scannedTitleOf, sectionsOfPages, type PageText } from './pdf.ts';

export const parseImage: Parser = async (file, context) => {
  let pageCount: number;
  try {
    const metadata = await sharp(file.bytes, { failOn: 'error' }).metadata();
    pageCount = metadata.pages ?? 1;
  } catch (error) {
    throw new KbError('KB_ERR_PARSE', { file: file.path, reason: `the image cannot be decoded (${describeError(error)})` }, { cause: error });
  }
  const numbers = Array.from({ length: pageCount }, (_, index) => index + 1);
  const read = await readScannedPages(
    numbers.map((num) => ({
      num,
      image: async () =>
        pageCount === 1
          ? new Uint8Array(file.bytes)
          : sharp(file.bytes, { page: num - 1 })
              .png({ compressionLevel: 1 })
              .toBuffer(),
    })),
    file.path,
    context,
  );
  const pages: PageText[] = numbers.flatMap((num) => {
    const text = read.texts.get(num);
    return text === undefined ? [] : [{ num, text, ocr: true }];
  });
  const title = scannedTitleOf(pages);
  const { sections, firstLine } = sectionsOfPages(pages, title);
  if (sections.length === 0) {
    throw new KbError('KB_ERR_PARSE', { file: file.path, reason: read.warnings.length > 0 ? `no text was read: ${read.warnings.join('; ')}` : 'OCR found no text in the image' });
  }
  return {
    title: title ?? firstLine?.slice(0, 120) ?? path.basename(file.path, path.extname(file.path)),
    language: detectLanguage(sections.map((section) => section.text).join('\n')),
    format: 'image',
    sections,
    ...(pageCount > 1 ? { pageCount } : {}),
    ...(read.warnings.length > 0 ? { warnings: read.warnings } : {}),
  };
};
