// Scans of known text, made at test and evaluation time: the text is laid out on an A4 page at 150 dpi (the CJK font
// fonts-wqy-microhei for both languages), then made to look scanned (off-white paper, a slight skew, blur, JPEG).
// OCR is measured against the text that was drawn (npm run eval -- --ocr) and tested on files built from it.
import sharp from 'sharp';

/** A4 at 150 dpi. */
export const PAGE_WIDTH = 1240;
export const PAGE_HEIGHT = 1754;
const MARGIN = 110;
const DEFAULT_FONT_SIZE = 26;
/** Line pitch in font sizes. */
const LINE_SPACING = 1.7;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Display width of a character in em: CJK and full-width forms one, Latin about a half. */
function characterWidth(character: string): number {
  return /[\p{Script=Han}\u3000-\u303f\uff00-\uffef]/u.test(character) ? 1 : 0.55;
}

/** Lines that fit the page width: Chinese broken anywhere, other text at spaces. */
export function wrapText(paragraph: string, widthEm = (PAGE_WIDTH - 2 * MARGIN) / DEFAULT_FONT_SIZE): string[] {
  const lines: string[] = [];
  let line = '';
  let width = 0;
  const tokens = paragraph.match(/[\p{Script=Han}\u3000-\u303f\uff00-\uffef]|[^\s\p{Script=Han}\u3000-\u303f\uff00-\uffef]+|\s+/gu) ?? [];
  for (const token of tokens) {
    const tokenWidth = [...token].reduce((sum, character) => sum + characterWidth(character), 0);
    if (width + tokenWidth > widthEm && line.trim()) {
      lines.push(line.trim());
      line = '';
      width = 0;
      if (/^\s+$/.test(token)) continue;
    }
    line += token;
    width += tokenWidth;
  }
  if (line.trim()) lines.push(line.trim());
  return lines;
}

/** Paragraphs laid out into pages of lines (a blank line between paragraphs). */
export function layoutPages(paragraphs: readonly string[], fontSize = DEFAULT_FONT_SIZE): string[][] {
  const perPage = Math.floor((PAGE_HEIGHT - 2 * MARGIN) / (fontSize * LINE_SPACING));
  const pages: string[][] = [[]];
  for (const paragraph of paragraphs) {
    const lines = wrapText(paragraph, (PAGE_WIDTH - 2 * MARGIN) / fontSize);
    let page = pages[pages.length - 1]!;
    if (page.length > 0 && page.length + 1 + Math.min(lines.length, 3) > perPage) pages.push((page = []));
    if (page.length > 0) page.push('');
    for (const line of lines) {
      if (page.length >= perPage) pages.push((page = []));
      page.push(line);
    }
  }
  return pages.filter((page) => page.length > 0);
}

export interface ScanOptions {
  /** Degrees the sheet is turned on the scanner glass. */
  skew?: number;
  /** Text size in pixels at 150 dpi (26 ≈ 12.5 pt). */
  fontSize?: number;
  /** JPEG quality, or 'png' for a lossless image. */
  quality?: number | 'png';
}

/** One page of lines as a scanned image. */
export async function scannedPage(lines: readonly string[], options: ScanOptions = {}): Promise<Buffer> {
  const fontSize = options.fontSize ?? DEFAULT_FONT_SIZE;
  const text = lines.map((line, index) => (line ? `<text x="${MARGIN}" y="${Math.round(MARGIN + fontSize + index * fontSize * LINE_SPACING)}">${escapeXml(line)}</text>` : '')).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${PAGE_WIDTH}" height="${PAGE_HEIGHT}"><rect width="100%" height="100%" fill="#f6f4ef"/><g font-family="WenQuanYi Micro Hei" font-size="${fontSize}" fill="#1a1a1a">${text}</g></svg>`;
  let page = sharp(Buffer.from(svg))
    .rotate(options.skew ?? 0.4, { background: '#f6f4ef' })
    .resize(PAGE_WIDTH, PAGE_HEIGHT, { fit: 'cover' })
    .blur(0.6)
    .grayscale();
  page = options.quality === 'png' ? page.png() : page.jpeg({ quality: options.quality ?? 75 });
  return page.toBuffer();
}

/** A PDF of page images and no text layer, as a scanner writes it. */
export async function scannedPdf(pages: readonly Buffer[]): Promise<Buffer> {
  const { default: PDFDocument } = await import('pdfkit');
  return new Promise((resolve, reject) => {
    const document = new PDFDocument({ autoFirstPage: false, size: 'A4' });
    const parts: Buffer[] = [];
    document.on('data', (part: Buffer) => parts.push(part));
    document.on('end', () => resolve(Buffer.concat(parts)));
    document.on('error', reject);
    for (const page of pages) {
      document.addPage({ size: 'A4', margin: 0 });
      document.image(page, 0, 0, { width: document.page.width, height: document.page.height });
    }
    document.end();
  });
}

/** A multi-page TIFF of page images (a fax, a document scanner's output). */
export async function multiPageTiff(pages: readonly Buffer[]): Promise<Buffer> {
  return sharp([...pages], { join: { animated: true } })
    .tiff({ compression: 'lzw' })
    .toBuffer();
}
