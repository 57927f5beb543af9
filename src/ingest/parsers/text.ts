// Plain text: paragraphs separated by blank lines. A short first line followed by a blank line is the title, and
// lines that look like numbered or underlined headings start a new heading path entry.
import path from 'node:path';
import { KbError } from '../../errors.ts';
import { detectLanguage } from '../../text/language.ts';
import type { Parser, Section } from '../types.ts';
import { decodeText, tidyText } from './encoding.ts';
import { headingLevel } from './headings.ts';

export const parseText: Parser = async (file) => {
  const text = tidyText(decodeText(file.bytes, file.path));
  if (!text) throw new KbError('KB_ERR_PARSE', { file: file.path, reason: 'the document has no text' });
  const lines = text.split('\n');
  let title = path.basename(file.path).replace(/\.[^.]+$/, '');
  let startLine = 0;
  if (lines[0] && lines[0].length <= 80 && (lines[1] === '' || /^[=-]{3,}$/.test(lines[1] ?? ''))) {
    title = lines[0].trim();
    startLine = /^[=-]{3,}$/.test(lines[1] ?? '') ? 2 : 1;
  }
  const sections: Section[] = [];
  const headingStack: { level: number; text: string }[] = [];
  let buffer: string[] = [];
  const flush = () => {
    const body = buffer.join('\n').trim();
    if (body) sections.push({ text: body, headings: headingStack.map((heading) => heading.text) });
    buffer = [];
  };
  for (let index = startLine; index < lines.length; index++) {
    const line = lines[index]!;
    const underlined = /^[=-]{3,}$/.test(lines[index + 1] ?? '') && line.trim().length > 0 && line.length <= 80;
    const level = underlined ? 1 : headingLevel(line, lines[index - 1] ?? '', lines[index + 1] ?? '');
    if (level > 0) {
      flush();
      while (headingStack.length > 0 && headingStack[headingStack.length - 1]!.level >= level) headingStack.pop();
      headingStack.push({ level, text: line.trim() });
      if (underlined) index++;
      continue;
    }
    buffer.push(line);
  }
  flush();
  return { title, language: detectLanguage(text), format: 'text', sections };
};
