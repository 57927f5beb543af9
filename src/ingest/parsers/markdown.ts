// Markdown through markdown-it (CommonMark + tables): the heading path is kept for each section, front matter gives
// the title, and the text holds what a reader sees — the words of paragraphs and list items (numbered items keep
// their number), one line per table row ("a | b | c"), code blocks verbatim — and none of the markup: HTML comments,
// raw and multi-line HTML tags and JSX/MDX components are removed (their text content stays), entities are decoded.
// A hand-written line parser used to leak `href="…" title="…"` of multi-line tags and whole comments into answers.
import path from 'node:path';
import MarkdownIt from 'markdown-it';
import type Token from 'markdown-it/lib/token.mjs';
import { decodeHTML } from 'entities';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { detectLanguage } from '../../text/language.ts';
import type { Parser, Section } from '../types.ts';
import { decodeText, tidyText } from './encoding.ts';
import { KbError } from '../../errors.ts';

const markdown = new MarkdownIt({ html: true, linkify: false, typographer: false });

const cjk = /[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]/u;
const SOFT_BREAK = '\u0000';
// eslint-disable-next-line no-control-regex -- the soft-break marker is a NUL on purpose: no text contains one
const softBreaks = /(.)\u0000(.)/gsu;

/** Text of raw HTML: comments, scripts and styles dropped, tags removed, entities decoded. */
function htmlText(html: string): string {
  return decodeHTML(
    html
      .replace(/<!--[\s\S]*?(-->|$)/g, ' ')
      .replace(/<(script|style)\b[\s\S]*?(<\/\1\s*>|$)/gi, ' ')
      .replace(/<\/?[A-Za-z][^>]*>/g, ' '),
  )
    .replace(/[ \t]+/g, ' ')
    .trim();
}

/** The plain text of an inline token: words, inline code, image alt text; soft line breaks joined as a reader reads. */
function inlineText(token: Token): string {
  let text = '';
  for (const child of token.children ?? []) {
    if (child.type === 'text' || child.type === 'code_inline') text += child.content;
    else if (child.type === 'image') text += child.content;
    else if (child.type === 'softbreak') text += SOFT_BREAK;
    else if (child.type === 'hardbreak') text += '\n';
    else if (child.type === 'html_inline') text += /^<br\s*\/?>$/i.test(child.content) ? '\n' : '';
  }
  // A wrapped line is one sentence going on: a space between words, nothing between two CJK characters.
  return text
    .replace(softBreaks, (_, before: string, after: string) => (cjk.test(before) && cjk.test(after) ? before + after : `${before} ${after}`))
    .replaceAll(SOFT_BREAK, ' ')
    .trim();
}

/** The front matter fields kept: the title, and as metadata a link, tags and a department. Others are ignored. */
const frontMatterSchema = z
  .object({
    title: z.union([z.string(), z.number()]).transform(String).optional().catch(undefined),
    url: z
      .url({ protocol: /^https?$/ })
      .optional()
      .catch(undefined),
    tags: z
      .union([z.array(z.union([z.string(), z.number()]).transform(String)), z.string().transform((value) => value.split(/\s*,\s*/))])
      .optional()
      .catch(undefined),
    department: z.string().optional().catch(undefined),
  })
  .loose();
type FrontMatter = z.infer<typeof frontMatterSchema>;

function readFrontMatter(text: string): { frontMatter: FrontMatter; body: string } {
  const match = /^---[ \t]*\n([\s\S]*?)\n---[ \t]*(\n|$)/.exec(text);
  if (!match) return { frontMatter: {}, body: text };
  let parsed: unknown;
  try {
    parsed = parseYaml(match[1] ?? '');
  } catch {
    parsed = undefined; // Front matter that is not YAML is dropped, not shown as text; the document still indexes.
  }
  const result = frontMatterSchema.safeParse(parsed ?? {});
  return { frontMatter: result.success ? result.data : {}, body: text.slice(match[0].length) };
}

/**
 * The body without custom-container fences (VitePress, markdown-it-container, Docusaurus admonitions:
 * ":::tip", "::: warning 注意", ":::"): the fence is layout; a title after its name stays as a line of text. Lines in
 * code blocks are left alone.
 */
function withoutContainerFences(body: string): string {
  let fence: string | undefined;
  return body
    .split('\n')
    .map((line) => {
      const fenceMatch = /^\s*(`{3,}|~{3,})/.exec(line);
      if (fenceMatch) {
        if (fence === undefined) fence = fenceMatch[1]![0];
        else if (fenceMatch[1]![0] === fence) fence = undefined;
        return line;
      }
      if (fence !== undefined) return line;
      const container = /^\s*:{3,}\s*([\w-]*)\s*(.*)$/u.exec(line);
      if (!container) return line;
      // The title is a paragraph of its own, not the start of the container's first sentence.
      const title = container[2]!.replace(/^\{.*\}$/, '').trim();
      return title ? `${title}\n` : '';
    })
    .join('\n');
}

/**
 * A heading without its explicit anchor: VitePress and markdown-it-attrs write "## Plugins {#plugins}", translated
 * docs "## 插件 %{#plugins}%". The anchor is link plumbing, not part of the title users see in a citation.
 */
function withoutHeadingAnchor(heading: string): string {
  return heading.replace(/\s*%?\{#[^}\s]+\}%?\s*$/u, '');
}

export const parseMarkdown: Parser = async (file) => {
  const text = decodeText(file.bytes, file.path).replace(/\r\n?/g, '\n');
  const { frontMatter, body } = readFrontMatter(text);
  let title = frontMatter.title;
  const tokens = markdown.parse(withoutContainerFences(body), {});
  const sections: Section[] = [];
  const headingStack: { level: number; text: string }[] = [];
  let blocks: string[] = [];
  const flush = () => {
    const sectionText = tidyText(blocks.join('\n\n'));
    if (sectionText) sections.push({ text: sectionText, headings: headingStack.map((heading) => heading.text) });
    blocks = [];
  };
  // Open lists, innermost last: the next number of an ordered list, or undefined for a bullet list.
  const lists: { next: number | undefined }[] = [];
  let listLines: string[] | undefined;
  let itemPrefix: string | undefined;
  let tableRows: string[] | undefined;
  let row: string[] | undefined;
  let headingLevel: number | undefined;

  const addBlock = (blockText: string) => {
    if (!blockText) return;
    if (listLines) {
      const indent = '  '.repeat(Math.max(0, lists.length - 1));
      listLines.push(itemPrefix !== undefined ? `${indent}${itemPrefix}${blockText}` : `${indent}  ${blockText}`);
      itemPrefix = undefined;
    } else blocks.push(blockText);
  };

  for (const token of tokens) {
    switch (token.type) {
      case 'heading_open':
        headingLevel = Number(token.tag.slice(1));
        break;
      case 'inline': {
        const inline = headingLevel === undefined ? inlineText(token) : withoutHeadingAnchor(inlineText(token));
        if (headingLevel !== undefined) {
          flush();
          while (headingStack.length > 0 && headingStack.at(-1)!.level >= headingLevel) headingStack.pop();
          if (inline) headingStack.push({ level: headingLevel, text: inline });
          if (headingLevel === 1 && title === undefined && inline) title = inline;
        } else if (row) row.push(inline.replace(/\s*\n\s*/g, ' '));
        else addBlock(inline);
        break;
      }
      case 'heading_close':
        headingLevel = undefined;
        break;
      case 'bullet_list_open':
      case 'ordered_list_open':
        if (lists.length === 0) listLines = [];
        lists.push({ next: token.type === 'ordered_list_open' ? Number(token.attrGet('start') ?? 1) : undefined });
        break;
      case 'list_item_open': {
        const list = lists.at(-1)!;
        if (list.next !== undefined) {
          itemPrefix = `${token.info || list.next}${token.markup || '.'} `;
          list.next = (Number(token.info) || list.next) + 1;
        } else itemPrefix = '- ';
        break;
      }
      case 'bullet_list_close':
      case 'ordered_list_close':
        lists.pop();
        if (lists.length === 0 && listLines) {
          blocks.push(listLines.join('\n'));
          listLines = undefined;
        }
        break;
      case 'table_open':
        tableRows = [];
        break;
      case 'tr_open':
        row = [];
        break;
      case 'tr_close':
        if (row && row.some((cell) => cell.length > 0)) tableRows?.push(row.join(' | '));
        row = undefined;
        break;
      case 'table_close':
        if (tableRows && tableRows.length > 0) addBlock(tableRows.join('\n'));
        tableRows = undefined;
        break;
      case 'fence':
      case 'code_block':
        // Commands and configuration are kept as written: an answer may need them verbatim.
        addBlock(token.content.replace(/\n+$/, ''));
        break;
      case 'html_block':
        addBlock(htmlText(token.content));
        break;
      default:
        break;
    }
  }
  flush();
  if (sections.length === 0) throw new KbError('KB_ERR_PARSE', { file: file.path, reason: 'the document has no text' });
  const allText = sections.map((section) => section.text).join('\n');
  const tags = frontMatter.tags?.map((tag) => tag.trim()).filter(Boolean);
  const metadata = {
    ...(frontMatter.url ? { url: frontMatter.url } : {}),
    ...(tags && tags.length > 0 ? { tags } : {}),
    ...(frontMatter.department?.trim() ? { department: frontMatter.department.trim() } : {}),
  };
  return {
    title: title ?? path.basename(file.path).replace(/\.[^.]+$/, ''),
    language: detectLanguage(allText),
    format: 'markdown',
    sections,
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
  };
};
