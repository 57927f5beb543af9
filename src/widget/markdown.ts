// A small, safe Markdown subset for answers and snippets: paragraphs, "- " and "1. " lists, "a | b" table rows,
// **bold**, `code`, [text](https://…) links and [n] citation markers. Everything becomes DOM nodes built with
// createElement and text nodes: no HTML from a document or a model ever reaches innerHTML, and only http(s) links
// are made clickable.

export interface RenderOptions {
  /** Called for each [n] marker; returns the element to show in its place (a button), or null to show the text. */
  citation?: (n: number) => HTMLElement | null;
}

/** A table cell this short (in characters) is kept on one line (8..30). */
const SHORT_CELL_CHARACTERS = 16;

const inlinePattern = /(\*\*([^*]+)\*\*)|(`([^`]+)`)|(\[([^\]]+)\]\(([^)\s]+)\))|(\[(\d{1,3})\])/g;

export function safeUrl(href: string): string | null {
  try {
    const url = new URL(href, 'https://invalid.invalid');
    if ((url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== 'invalid.invalid') return url.href;
  } catch {
    // not a URL
  }
  return null;
}

export function renderInline(text: string, parent: HTMLElement, options: RenderOptions): void {
  let last = 0;
  for (const match of text.matchAll(inlinePattern)) {
    const index = match.index ?? 0;
    if (index > last) parent.append(document.createTextNode(text.slice(last, index)));
    if (match[2] !== undefined) {
      const strong = document.createElement('strong');
      strong.textContent = match[2];
      parent.append(strong);
    } else if (match[4] !== undefined) {
      const code = document.createElement('code');
      code.textContent = match[4];
      parent.append(code);
    } else if (match[6] !== undefined) {
      const href = safeUrl(match[7]!);
      if (href) {
        const link = document.createElement('a');
        link.href = href;
        link.textContent = match[6];
        link.target = '_blank';
        link.rel = 'noopener noreferrer';
        parent.append(link);
      } else parent.append(document.createTextNode(match[6]));
    } else if (match[9] !== undefined) {
      const element = options.citation?.(Number(match[9]));
      parent.append(element ?? document.createTextNode(match[0]));
    }
    last = index + match[0].length;
  }
  if (last < text.length) parent.append(document.createTextNode(text.slice(last)));
}

export function renderMarkdown(text: string, options: RenderOptions = {}): DocumentFragment {
  const fragment = document.createDocumentFragment();
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let index = 0;
  while (index < lines.length) {
    const line = lines[index]!;
    if (line.trim() === '') {
      index++;
      continue;
    }
    if (/^\s*([-*]|\d+[.)])\s+/.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const list = document.createElement(ordered ? 'ol' : 'ul');
      while (index < lines.length && /^\s*([-*]|\d+[.)])\s+/.test(lines[index]!)) {
        const item = document.createElement('li');
        renderInline(lines[index]!.replace(/^\s*([-*]|\d+[.)])\s+/, ''), item, options);
        list.append(item);
        index++;
      }
      fragment.append(list);
      continue;
    }
    if (line.includes(' | ')) {
      const table = document.createElement('table');
      let first = true;
      while (index < lines.length && lines[index]!.includes(' | ')) {
        const row = document.createElement('tr');
        for (const cell of lines[index]!.split(' | ')) {
          const element = document.createElement(first ? 'th' : 'td');
          // Codes and values ("E-104", "120 N·m") stay on one line: a line may break after a hyphen, not in a code.
          if (cell.trim().length <= SHORT_CELL_CHARACTERS) element.className = 'short';
          renderInline(cell.trim(), element, options);
          row.append(element);
        }
        table.append(row);
        first = false;
        index++;
      }
      const wrapper = document.createElement('div');
      wrapper.className = 'table';
      wrapper.append(table);
      fragment.append(wrapper);
      continue;
    }
    const paragraph = document.createElement('p');
    const parts: string[] = [];
    while (index < lines.length && lines[index]!.trim() !== '' && !lines[index]!.includes(' | ') && !/^\s*([-*]|\d+[.)])\s+/.test(lines[index]!)) {
      parts.push(lines[index]!);
      index++;
    }
    parts.forEach((part, position) => {
      if (position > 0) paragraph.append(document.createElement('br'));
      renderInline(part, paragraph, options);
    });
    fragment.append(paragraph);
  }
  return fragment;
}
