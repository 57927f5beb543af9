// DOCX through mammoth, which maps Word's heading styles to <h1>..<h6>; the HTML parser then keeps the heading path.
import mammoth from 'mammoth';
import { KbError, describeError } from '../../errors.ts';
import type { Parser } from '../types.ts';
import { htmlToDocument } from './html.ts';
import { assertZipWithinLimits } from './zip.ts';

export const parseDocx: Parser = async (file) => {
  assertZipWithinLimits(file.bytes, file.path);
  let html: string;
  try {
    html = (await mammoth.convertToHtml({ buffer: file.bytes })).value;
  } catch (error) {
    throw new KbError('KB_ERR_PARSE', { file: file.path, reason: `not a readable DOCX file (${describeError(error)})` }, { cause: error });
  }
  const document = htmlToDocument(html, file.path, 'docx');
  return document;
};
