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
    // Not valid UTF-8 as a whole. Line by line (a newline is the same byte in both encodings): a line that is valid
    // UTF-8 stays UTF-8, else GB18030 (a superset of GBK and GB2312) if it decodes cleanly, else UTF-8 with
    // replacement characters for the stray bytes. So a GBK file, a UTF-8 file with a few broken bytes and a file that
    // mixes the two all read correctly; text that is neither is refused.
    const lines: string[] = [];
    let start = 0;
    while (start <= bytes.length) {
      let end = bytes.indexOf(0x0a, start);
      if (end === -1) end = bytes.length;
      lines.push(decodeLine(bytes.subarray(start, end)));
      start = end + 1;
    }
    const text = lines.join('\n').replace(/^\uFEFF/, '');
    const replaced = text.match(/\uFFFD/g)?.length ?? 0;
    if (replaced > text.length / 20) throw new KbError('KB_ERR_PARSE', { file, reason: 'the text encoding is neither UTF-8 nor GB18030' });
    return text;
  }
}

const gb18030 = new TextDecoder('gb18030', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

function decodeLine(line: Uint8Array): string {
  try {
    return utf8.decode(line);
  } catch {
    try {
      return gb18030.decode(line);
    } catch {
      return lenientUtf8.decode(line);
    }
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
