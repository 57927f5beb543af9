// Text decoding for files on disk: UTF-8 (with or without BOM), UTF-16 with BOM, and GB18030/GBK, which Chinese
// Windows tools still write. Binary content is refused rather than indexed as garbage.
import { KbError } from '../../errors.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeText(bytes: Buffer, file: string): string {
  if (bytes.length === 0) throw new KbError('KB_ERR_PARSE', { file, reason: 'the file is empty' });
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const sample = bytes.subarray(0, 8192);
  let controlBytes = 0;
  for (const byte of sample) if (byte === 0 || (byte < 8 && byte !== 0)) controlBytes++;
  if (controlBytes > 0) throw new KbError('KB_ERR_PARSE', { file, reason: 'the content is binary, not text' });
  try {
    return utf8.decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    // Not UTF-8: GB18030 is a superset of GBK and GB2312; anything else decodes with replacement characters.
    const text = new TextDecoder('gb18030').decode(bytes);
    const replaced = text.match(/\uFFFD/g)?.length ?? 0;
    if (replaced > text.length / 20) throw new KbError('KB_ERR_PARSE', { file, reason: 'the text encoding is neither UTF-8 nor GB18030' });
    return text;
  }
}

/** Whitespace clean-up shared by the parsers: no trailing spaces, at most one blank line. */
export function tidyText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[\t\f\v\u00a0\u3000]+/g, ' ')
    .replace(/ +\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
