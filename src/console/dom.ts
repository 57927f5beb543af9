// Small DOM helpers: elements built with properties and children (text is always set as text, never parsed as HTML,
// so nothing from a document or a question can run in the console), dialogs and notices.
import { t } from './i18n.ts';

type Child = Node | string | number | false | null | undefined;
type Properties<K extends keyof HTMLElementTagNameMap> = Partial<Omit<HTMLElementTagNameMap[K], 'style' | 'attributes'>> & { attributes?: Record<string, string>; testid?: string };

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, properties: Properties<K> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const { attributes, testid, ...rest } = properties;
  const element = Object.assign(document.createElement(tag), rest);
  for (const [name, value] of Object.entries(attributes ?? {})) element.setAttribute(name, value);
  if (testid) element.setAttribute('data-testid', testid);
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === false || child === null || child === undefined) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

export function clear(element: Element): void {
  element.replaceChildren();
}

export function button(label: string, onClick: (event: MouseEvent) => void, properties: Properties<'button'> = {}): HTMLButtonElement {
  const element = h('button', { type: 'button', ...properties }, label);
  element.addEventListener('click', onClick);
  return element;
}

export function field(label: string, control: HTMLElement, wide = false): HTMLLabelElement {
  return h('label', { className: wide ? 'field wide' : 'field' }, label, control);
}

export function input(properties: Properties<'input'> = {}): HTMLInputElement {
  return h('input', { type: 'text', ...properties });
}

export function select(options: readonly (readonly [string, string])[], value = '', properties: Properties<'select'> = {}): HTMLSelectElement {
  const element = h('select', properties, ...options.map(([optionValue, label]) => h('option', { value: optionValue, selected: optionValue === value }, label)));
  element.value = value;
  return element;
}

export function badge(text: string, kind: string): HTMLSpanElement {
  return h('span', { className: `badge ${kind}` }, text);
}

export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(document.documentElement.lang === 'zh' ? 'zh-CN' : 'en-GB', { dateStyle: 'short', timeStyle: 'short' });
}

/** Words separated by commas (English or Chinese ones) or by spaces, trimmed, without empties. */
export function listOf(text: string, separator: RegExp = /[,，]/): string[] {
  return text
    .split(separator)
    .map((item) => item.trim())
    .filter(Boolean);
}

let noticeArea: HTMLElement | undefined;

/** A message at the bottom right for a few seconds (errors stay until clicked). */
export function notify(message: string, kind: 'ok' | 'error' = 'ok'): void {
  noticeArea ??= document.body.appendChild(h('div', { className: 'toast', attributes: { role: 'status', 'aria-live': 'polite' } }));
  const notice = h('div', { className: `notice ${kind}`, testid: kind === 'error' ? 'notice-error' : 'notice' }, message);
  notice.addEventListener('click', () => notice.remove());
  noticeArea.appendChild(notice);
  if (kind === 'ok') setTimeout(() => notice.remove(), 5000);
}

/** A modal dialog with a title and a close button; removed from the page when closed. */
export function openDialog(title: string, ...body: Child[]): HTMLDialogElement {
  const dialog = h('dialog', { attributes: { 'aria-label': title } });
  const content = h('div', { className: 'dialog-body' });
  append(content, ...body);
  append(
    dialog,
    h(
      'div',
      { className: 'dialog-head' },
      h('h2', {}, title),
      button(t('close'), () => dialog.close(), { testid: 'dialog-close' }),
    ),
    content,
  );
  dialog.addEventListener('close', () => dialog.remove());
  document.body.appendChild(dialog);
  dialog.showModal();
  return dialog;
}

export async function copyText(text: string, source: HTMLButtonElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Clipboard access needs a secure context (HTTPS or localhost): elsewhere select the text for the user to copy.
    const area = h('textarea', { value: text });
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  const label = source.textContent;
  source.textContent = t('copied');
  setTimeout(() => (source.textContent = label), 1500);
}
