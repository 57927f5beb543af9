// PowerPoint decks (PPTX): a section per slide, located by its number ("Slide 3" and the slide's title in the heading
// path), with its text in reading order (the title, then shapes from top to bottom and left to right), its tables as
// rows of "column: value" like a spreadsheet's, and its speaker notes, which often hold what the presenter says.
// Slides are read in the deck's order (presentation.xml), hidden slides skipped. The XML is read with a small element
// tree builder: DrawingML is plain, well-formed XML, and the parts we need are a few element names.
import path from 'node:path';
import { KbError, describeError } from '../../errors.ts';
import { detectLanguage } from '../../text/language.ts';
import type { Parser, Section } from '../types.ts';
import { assertZipWithinLimits } from './zip.ts';

/** A text box on top of a slide without a title placeholder is its title when one line of at most this many characters. */
const TITLE_MAX_CHARACTERS = 100;

interface Element {
  name: string;
  attributes: Record<string, string>;
  children: (Element | string)[];
}

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, name: string) =>
    name.startsWith('#x') ? String.fromCodePoint(parseInt(name.slice(2), 16)) : name.startsWith('#') ? String.fromCodePoint(Number(name.slice(1))) : (entities[name] ?? whole),
  );
}

/** The element tree of an XML part (no DTDs, no namespaces resolved: names keep their prefixes). */
export function parseXml(xml: string): Element {
  const root: Element = { name: '#root', attributes: {}, children: [] };
  const stack = [root];
  const tag = /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|<\?[^>]*\?>|<!--[\s\S]*?-->|<!\[CDATA\[([\s\S]*?)\]\]>/g;
  let last = 0;
  for (const match of xml.matchAll(tag)) {
    const text = xml.slice(last, match.index);
    if (text) stack.at(-1)!.children.push(decodeEntities(text));
    last = match.index + match[0].length;
    if (match[5] !== undefined) {
      stack.at(-1)!.children.push(match[5]);
      continue;
    }
    if (!match[2]) continue;
    if (match[1]) {
      if (stack.length > 1) stack.pop();
      continue;
    }
    const attributes: Record<string, string> = {};
    for (const attribute of (match[3] ?? '').matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) attributes[attribute[1]!] = decodeEntities(attribute[2] ?? attribute[3] ?? '');
    const element: Element = { name: match[2], attributes, children: [] };
    stack.at(-1)!.children.push(element);
    if (!match[4]) stack.push(element);
  }
  return root;
}

function* descendants(element: Element, name: string): Generator<Element> {
  for (const child of element.children) {
    if (typeof child === 'string') continue;
    if (child.name === name) yield child;
    else yield* descendants(child, name);
  }
}

const first = (element: Element, name: string) => descendants(element, name).next().value as Element | undefined;

/** A paragraph's text: its runs, fields and line breaks. */
function paragraphText(paragraph: Element): string {
  let text = '';
  const visit = (element: Element) => {
    for (const child of element.children) {
      if (typeof child === 'string') continue;
      if (child.name === 'a:t') text += child.children.filter((part): part is string => typeof part === 'string').join('');
      else if (child.name === 'a:br') text += '\n';
      else visit(child);
    }
  };
  visit(paragraph);
  return text.replace(/[ \t]+/g, ' ').trim();
}

function bodyText(body: Element): string {
  return [...descendants(body, 'a:p')]
    .map(paragraphText)
    .filter((line) => line.length > 0)
    .join('\n');
}

/** A table as lines "header: value · header: value", the first row being the header when it has two cells or more. */
function tableText(table: Element): string {
  const rows = [...descendants(table, 'a:tr')].map((row) => [...descendants(row, 'a:tc')].map((cell) => bodyText(cell).replace(/\n/g, ' ')));
  if (rows.length === 0) return '';
  const [header, ...rest] = rows as [string[], ...string[][]];
  if (rest.length === 0 || header.filter(Boolean).length < 2) return rows.map((row) => row.filter(Boolean).join(' · ')).join('\n');
  return rest
    .map((row) =>
      row
        .map((cell, column) => (cell ? (header[column] ? `${header[column]}: ${cell}` : cell) : undefined))
        .filter(Boolean)
        .join(' · '),
    )
    .join('\n');
}

interface Block {
  text: string;
  isTitle: boolean;
  y: number;
  x: number;
  order: number;
}

function slideContent(xml: string): { title: string | undefined; blocks: Block[] } {
  const tree = parseXml(xml);
  const shapeTree = first(tree, 'p:spTree');
  if (!shapeTree) return { title: undefined, blocks: [] };
  const blocks: Block[] = [];
  const visit = (container: Element) => {
    for (const child of container.children) {
      if (typeof child === 'string') continue;
      if (child.name === 'p:grpSp') {
        visit(child);
        continue;
      }
      const offset = first(child, 'a:off');
      const position = { y: Number(offset?.attributes['y'] ?? Number.NaN), x: Number(offset?.attributes['x'] ?? Number.NaN) };
      if (child.name === 'p:sp') {
        const placeholder = first(child, 'p:ph')?.attributes['type'];
        const body = first(child, 'p:txBody');
        const text = body ? bodyText(body) : '';
        if (text) blocks.push({ text, isTitle: placeholder === 'title' || placeholder === 'ctrTitle', ...position, order: blocks.length });
      } else if (child.name === 'p:graphicFrame') {
        const table = first(child, 'a:tbl');
        const text = table ? tableText(table) : '';
        if (text) blocks.push({ text, isTitle: false, ...position, order: blocks.length });
      }
    }
  };
  visit(shapeTree);
  // Reading order: the title, then top to bottom, left to right; a shape placed by its layout keeps its place in the file.
  const placed = (block: Block) => !Number.isNaN(block.y);
  blocks.sort((a, b) => Number(b.isTitle) - Number(a.isTitle) || (placed(a) && placed(b) ? a.y - b.y || a.x - b.x : a.order - b.order));
  // Without a title placeholder (decks made by tools often use plain text boxes), a short single line on top is the title.
  const top = blocks[0];
  const titleBlock = blocks.find((block) => block.isTitle) ?? (top && !top.text.includes('\n') && top.text.length <= TITLE_MAX_CHARACTERS ? top : undefined);
  if (titleBlock) titleBlock.isTitle = true;
  return { title: titleBlock?.text.replace(/\n/g, ' '), blocks };
}

export const parseSlides: Parser = async (file) => {
  // A ZIP bomb is refused before anything is inflated.
  assertZipWithinLimits(file.bytes, file.path);
  const { default: JSZip } = await import('jszip');
  let zip: InstanceType<typeof JSZip>;
  try {
    zip = await JSZip.loadAsync(file.bytes);
  } catch (error) {
    throw new KbError('KB_ERR_PARSE', { file: file.path, reason: `not a readable PPTX deck: ${describeError(error)}` });
  }
  const read = async (name: string) => zip.file(name)?.async('string');
  const relationships = async (part: string) => {
    const xml = await read(path.posix.join(path.posix.dirname(part), '_rels', `${path.posix.basename(part)}.rels`));
    const targets = new Map<string, { target: string; type: string }>();
    if (!xml) return targets;
    for (const relationship of descendants(parseXml(xml), 'Relationship')) {
      targets.set(relationship.attributes['Id'] ?? '', {
        target: path.posix.normalize(path.posix.join(path.posix.dirname(part), relationship.attributes['Target'] ?? '')),
        type: relationship.attributes['Type'] ?? '',
      });
    }
    return targets;
  };
  const presentation = await read('ppt/presentation.xml');
  if (!presentation) throw new KbError('KB_ERR_PARSE', { file: file.path, reason: 'not a PPTX deck (no ppt/presentation.xml)' });
  const presentationRelationships = await relationships('ppt/presentation.xml');
  const slideParts = [...descendants(parseXml(presentation), 'p:sldId')].map((slide) => presentationRelationships.get(slide.attributes['r:id'] ?? '')?.target).filter((part): part is string => !!part);

  const slides: { number: number; title: string | undefined; text: string; notes: string }[] = [];
  let deckTitle: string | undefined;
  for (const [index, part] of slideParts.entries()) {
    const xml = await read(part);
    if (!xml) continue;
    const slide = parseXml(xml);
    if (first(slide, 'p:sld')?.attributes['show'] === '0') continue;
    const { title, blocks } = slideContent(xml);
    deckTitle ??= title;
    const notesPart = [...(await relationships(part)).values()].find((relationship) => relationship.type.endsWith('/notesSlide'))?.target;
    const notesXml = notesPart ? await read(notesPart) : undefined;
    // The notes page's body placeholder holds the notes; its other shapes are the slide image and the page number.
    const notes = notesXml
      ? [...descendants(parseXml(notesXml), 'p:sp')]
          .filter((shape) => first(shape, 'p:ph')?.attributes['type'] === 'body')
          .map((shape) => bodyText(first(shape, 'p:txBody') ?? shape))
          .filter(Boolean)
          .join('\n')
      : '';
    const body = blocks.filter((block) => !block.isTitle).map((block) => block.text);
    const text = [...(title ? [title] : []), ...body].join('\n');
    if (!text.trim() && !notes) continue;
    slides.push({ number: index + 1, title, text, notes });
  }
  if (slides.length === 0) throw new KbError('KB_ERR_PARSE', { file: file.path, reason: 'the document has no text' });
  // The slide's place in the citation, in the deck's language.
  const language = detectLanguage(slides.map((slide) => `${slide.text}\n${slide.notes}`).join('\n'));
  const notesLabel = language === 'zh' ? '备注：' : 'Notes: ';
  const sections: Section[] = slides.map((slide) => ({
    text: [slide.text, ...(slide.notes ? [`${notesLabel}${slide.notes}`] : [])].filter(Boolean).join('\n'),
    headings: [language === 'zh' ? `第 ${slide.number} 张幻灯片` : `Slide ${slide.number}`, ...(slide.title ? [slide.title] : [])],
  }));
  return { title: deckTitle ?? path.basename(file.path, path.extname(file.path)), language, format: 'slides', sections, pageCount: slideParts.length };
};
