// HTML (and DOCX, which mammoth turns into HTML): headings become the heading path, navigation, scripts, styles and
// forms are dropped, block elements become paragraphs and table rows become one "cell | cell" line each.
import path from 'node:path';
import { parse, type HTMLElement, NodeType, type Node } from 'node-html-parser';
import { KbError } from '../../errors.ts';
import { detectLanguage } from '../../text/language.ts';
import type { DocumentFormat, Parser, ParsedDocument, Section, SourceFile } from '../types.ts';
import { decodeHTML } from 'entities';
import { decodeText, tidyText } from './encoding.ts';

const dropped = new Set(['script', 'style', 'noscript', 'template', 'nav', 'header', 'footer', 'aside', 'form', 'svg', 'iframe', 'button', 'select', 'canvas', 'object', 'head']);
const blocks = new Set([
  'p',
  'div',
  'section',
  'article',
  'main',
  'li',
  'dd',
  'dt',
  'blockquote',
  'pre',
  'figure',
  'figcaption',
  'tr',
  'br',
  'hr',
  'ul',
  'ol',
  'dl',
  'table',
  'caption',
  'address',
  'details',
  'summary',
]);
/** The text under an element, gathered without recursion (node-html-parser's textContent recurses). */
function textOf(element: HTMLElement): string {
  const parts: string[] = [];
  const stack: Node[] = [element];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.nodeType === NodeType.TEXT_NODE) parts.push(node.rawText);
    else if (node.nodeType === NodeType.ELEMENT_NODE && !dropped.has((node as HTMLElement).tagName?.toLowerCase() ?? '')) {
      for (let index = node.childNodes.length - 1; index >= 0; index--) stack.push(node.childNodes[index]!);
    }
  }
  return parts.join('');
}

/** Every named and numeric HTML entity (&eacute;, &mdash;, &rsquo;, &#x4e2d;…) through a maintained decoder. */
function decodeEntities(text: string): string {
  return decodeHTML(text).replace(/\u00a0/g, ' ');
}

export function htmlToDocument(html: string, file: string, format: DocumentFormat): ParsedDocument {
  const root = parse(html, { comment: false, blockTextElements: { pre: true } });
  const sections: Section[] = [];
  const headingStack: { level: number; text: string }[] = [];
  let paragraph = '';
  let buffer: string[] = [];
  const endParagraph = () => {
    const text = paragraph.replace(/\s+/g, ' ').trim();
    if (text) buffer.push(text);
    paragraph = '';
  };
  const flush = () => {
    endParagraph();
    const body = tidyText(buffer.join('\n'));
    if (body) sections.push({ text: body, headings: headingStack.map((heading) => heading.text) });
    buffer = [];
  };
  // An explicit stack instead of recursion: hostile or generated HTML nests thousands of levels deep.
  type Step = { node: Node } | { close: string };
  const walk = (start: Node): void => {
    const stack: Step[] = [{ node: start }];
    while (stack.length > 0) {
      const step = stack.pop()!;
      if ('close' in step) {
        if (blocks.has(step.close)) endParagraph();
        else if (step.close === 'td' || step.close === 'th') paragraph += ' ';
        continue;
      }
      const node = step.node;
      if (node.nodeType === NodeType.TEXT_NODE) {
        paragraph += decodeEntities(node.rawText);
        continue;
      }
      if (node.nodeType !== NodeType.ELEMENT_NODE) continue;
      const element = node as HTMLElement;
      const tag = element.tagName?.toLowerCase() ?? '';
      if (dropped.has(tag) || element.getAttribute('aria-hidden') === 'true' || element.getAttribute('role') === 'navigation') continue;
      const heading = /^h([1-6])$/.exec(tag);
      if (heading) {
        flush();
        const level = Number(heading[1]);
        const text = decodeEntities(textOf(element)).replace(/\s+/g, ' ').trim();
        if (text) {
          while (headingStack.length > 0 && headingStack[headingStack.length - 1]!.level >= level) headingStack.pop();
          headingStack.push({ level, text });
        }
        continue;
      }
      if (tag === 'tr') {
        endParagraph();
        const cells = element.childNodes
          .filter((child): child is HTMLElement => child.nodeType === NodeType.ELEMENT_NODE && /^t[dh]$/i.test((child as HTMLElement).tagName))
          .map((cell) => decodeEntities(textOf(cell)).replace(/\s+/g, ' ').trim());
        if (cells.some((cell) => cell.length > 0)) buffer.push(cells.join(' | '));
        continue;
      }
      if (tag === 'pre') {
        endParagraph();
        buffer.push(decodeEntities(textOf(element)).trim());
        continue;
      }
      if (blocks.has(tag)) endParagraph();
      stack.push({ close: tag });
      for (let index = element.childNodes.length - 1; index >= 0; index--) stack.push({ node: element.childNodes[index]! });
    }
  };
  const body = root.querySelector('body') ?? root;
  walk(body);
  flush();
  if (sections.length === 0) throw new KbError('KB_ERR_PARSE', { file, reason: 'the document has no text' });
  const titleElement = root.querySelector('title');
  const titleText = titleElement ? textOf(titleElement).trim() : undefined;
  const firstHeading = sections.find((section) => section.headings.length > 0)?.headings[0];
  const allText = sections.map((section) => section.text).join('\n');
  return {
    title: decodeEntities(titleText || firstHeading || path.basename(file).replace(/\.[^.]+$/, '')),
    language: detectLanguage(allText),
    format,
    sections,
  };
}

export const parseHtml: Parser = async (file: SourceFile) => htmlToDocument(decodeText(file.bytes, file.path), file.path, 'html');
