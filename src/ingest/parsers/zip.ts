// A guard against zip bombs before an Office document (DOCX, XLSX, PPTX) is inflated: the central directory states each entry's uncompressed
// size, so the total and the compression ratio can be checked without inflating anything.
import { KbError } from '../../errors.ts';

/** Largest total uncompressed size of an Office package (text documents are far smaller). */
export const MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024;
/** Largest overall compression ratio: XML compresses about 10:1, bombs 1000:1. */
export const MAX_COMPRESSION_RATIO = 200;

export function assertZipWithinLimits(bytes: Buffer, file: string): void {
  const reject = (reason: string) => {
    throw new KbError('KB_ERR_PARSE', { file, reason });
  };
  if (bytes.length < 22 || bytes.readUInt32LE(0) !== 0x04034b50) reject('not an Office document (no ZIP signature)');
  // End of central directory: signature 0x06054b50 within the last 64 KiB + 22 bytes.
  let end = -1;
  for (let index = bytes.length - 22; index >= Math.max(0, bytes.length - 65557); index--) {
    if (bytes.readUInt32LE(index) === 0x06054b50) {
      end = index;
      break;
    }
  }
  if (end < 0) reject('the ZIP container is truncated or corrupt (no central directory)');
  const entries = bytes.readUInt16LE(end + 10);
  let offset = bytes.readUInt32LE(end + 16);
  let total = 0;
  for (let entry = 0; entry < entries; entry++) {
    if (offset + 46 > bytes.length || bytes.readUInt32LE(offset) !== 0x02014b50) reject('the ZIP central directory is corrupt');
    total += bytes.readUInt32LE(offset + 24);
    offset += 46 + bytes.readUInt16LE(offset + 28) + bytes.readUInt16LE(offset + 30) + bytes.readUInt16LE(offset + 32);
  }
  if (total > MAX_UNCOMPRESSED_BYTES) reject(`it would inflate to ${total} bytes (limit ${MAX_UNCOMPRESSED_BYTES}): a zip bomb?`);
  if (total / bytes.length > MAX_COMPRESSION_RATIO) reject(`its compression ratio ${Math.round(total / bytes.length)}:1 is beyond ${MAX_COMPRESSION_RATIO}:1: a zip bomb?`);
}
