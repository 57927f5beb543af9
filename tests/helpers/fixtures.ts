// Broken and hostile files made at test time: encrypted, truncated and text-less PDFs, a zip bomb's central
// directory, GBK-encoded text, deeply nested HTML.
import { readFileSync } from 'node:fs';
import PDFDocument from 'pdfkit';

export function pdfBuffer(build: (document: PDFKit.PDFDocument) => void, options: PDFKit.PDFDocumentOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const document = new PDFDocument(options);
    const parts: Buffer[] = [];
    document.on('data', (part: Buffer) => parts.push(part));
    document.on('end', () => resolve(Buffer.concat(parts)));
    document.on('error', reject);
    build(document);
    document.end();
  });
}

export function encryptedPdf(): Promise<Buffer> {
  return pdfBuffer((document) => document.text('Secret maintenance plan'), { userPassword: 'secret', ownerPassword: 'owner' });
}

export function imageOnlyPdf(): Promise<Buffer> {
  return pdfBuffer((document) => document.rect(100, 100, 200, 200).fill('#333333'));
}

export function truncatedCopy(file: string, share = 0.5): Buffer {
  const bytes = readFileSync(file);
  return bytes.subarray(0, Math.floor(bytes.length * share));
}

/**
 * A ZIP whose central directory declares a 4 GB "word/document.xml": what a zip bomb looks like to a reader that
 * checks sizes before inflating. The local data is a few bytes.
 */
export function zipBombLike(): Buffer {
  const name = Buffer.from('word/document.xml');
  const data = Buffer.from([0x03, 0x00]); // an empty deflate stream
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8); // deflate
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(0xfffffff0, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(0xfffffff0, 24);
  central.writeUInt16LE(name.length, 28);
  central.writeUInt32LE(0, 42);
  const centralOffset = local.length + name.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, name, data, central, name, end]);
}

/** "故障代码 E-104：主轴编码器信号丢失" in GBK. */
export function gbkText(): Buffer {
  return Buffer.from([
    0xb9, 0xca, 0xd5, 0xcf, 0xb4, 0xfa, 0xc2, 0xeb, 0x20, 0x45, 0x2d, 0x31, 0x30, 0x34, 0xa3, 0xba, 0xd6, 0xf7, 0xd6, 0xe1, 0xb1, 0xe0, 0xc2, 0xeb, 0xc6, 0xf7, 0xd0, 0xc5, 0xba, 0xc5, 0xb6, 0xaa,
    0xca, 0xa7,
  ]);
}

export function deeplyNestedHtml(depth: number): Buffer {
  return Buffer.from(`<html><head><title>Nested</title></head><body>${'<div>'.repeat(depth)}<p>Deep text survives.</p>${'</div>'.repeat(depth)}</body></html>`);
}

export function binaryGarbage(size = 4096): Buffer {
  const bytes = Buffer.alloc(size);
  let state = 7;
  for (let index = 0; index < size; index++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    bytes[index] = state & 0xff;
  }
  return bytes;
}
