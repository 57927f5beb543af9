// Markdown: the heading path is kept for each section; front matter gives the title; inline syntax is stripped so
// that the index and the snippets hold the words, while table rows stay one line each.
import path from 'node:path';
import { detectLanguage } from '../../text/language.ts';
import type { Parser, Section } from '../types.ts';
import { decodeText, tidyText } from './encoding.ts';
import { KbError } from '../../errors.ts';

function stripInline(line: string): string {
  return line
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/(^|[^\w*])[*_]([^*_\n]+)[*_](?=[^\w*]|$)/g, '$1$2')
    .replace(/`([^`]+)`/g, '$1');
}

function tableRow(line: string): string | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('|')) return undefined;
  if (/^\|?[\s:|-]+\|?$/.test(trimmed)) return ''; // the separator row
  return trimmed
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((cell) => stripInline(cell.trim()))
    .join(' | ');
}

export const parseMarkdown: Parser = async (file) => {
  let text = decodeText(file.bytes, file.path).replace(/\r\n?/g, '\n');
  let title: string | undefined;
  const frontMatter = /^---\n([\s\S]*?)\n---\n/.exec(text);
  if (frontMatter) {
    title = /^title:\s*["']?(.+?)["']?\s*$/m.exec(frontMatter[1] ?? '')?.[1];
    text = text.slice(frontMatter[0].length);
  }
  const sections: Section[] = [];
  const headingStack: { level: number; text: string }[] = [];
  let buffer: string[] = [];
  let inFence = false;
  const flush = () => {
    const body = tidyText(buffer.join('\n'));
    if (body) sections.push({ text: body, headings: headingStack.map((heading) => heading.text) });
    buffer = [];
  };
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      inFence = !inFence;
      continue;
    }
    const heading = inFence ? null : /^(#{1,6})\s+(.+?)\s*#*\s*$/.exec(line);
    if (heading) {
      flush();
      const level = heading[1]!.length;
      const headingText = stripInline(heading[2]!);
      while (headingStack.length > 0 && headingStack[headingStack.length - 1]!.level >= level) headingStack.pop();
      headingStack.push({ level, text: headingText });
      if (level === 1 && title === undefined) title = headingText;
      continue;
    }
    const row = inFence ? undefined : tableRow(line);
    // The |---|---| separator row is dropped: a blank line there would cut the header off from its rows.
    if (row === '') continue;
    buffer.push(row ?? (inFence ? line : stripInline(line.replace(/^\s*([-*+]|\d+[.)])\s+/, (marker) => (/\d/.test(marker) ? marker.trim() + ' ' : '- ')))));
  }
  flush();
  if (sections.length === 0) throw new KbError('KB_ERR_PARSE', { file: file.path, reason: 'the document has no text' });
  const allText = sections.map((section) => section.text).join('\n');
  return {
    title: title ?? path.basename(file.path).replace(/\.[^.]+$/, ''),
    language: detectLanguage(allText),
    format: 'markdown',
    sections,
  };
};
