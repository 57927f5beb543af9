// The embeddable help-desk chat: <script src="https://HOST/widget.js" data-key="PUBLIC_KEY" async></script> adds a
// launcher and a chat panel; <kb-chat inline> places the chat in the page instead. A custom element with an open
// shadow root, no framework. It exchanges the public key for a session token bound to the page origin, streams
// answers from /v1/ask, shows numbered citations as source cards, keeps the conversation in sessionStorage, and
// posts thumbs up/down to /v1/feedback.
import type { Citation } from '../answer/types.ts';
import { pickLanguage, texts, type Texts, type WidgetLanguage } from './i18n.ts';
import { renderMarkdown, safeUrl } from './markdown.ts';
import { readEvents } from './sse.ts';
import { styles } from './styles.ts';

interface ChatMessage {
  role: 'user' | 'assistant' | 'error';
  text: string;
  citations?: Citation[];
  answerable?: boolean;
  answerId?: string;
  rating?: 'up' | 'down';
  stopped?: boolean;
  retryQuestion?: string;
}

interface Settings {
  apiBase: string;
  key: string;
  title: string | undefined;
  language: WidgetLanguage;
  position: 'left' | 'right';
  accent: string | undefined;
  welcome: string | undefined;
  suggestions: string[];
  helpdeskText: string | undefined;
  helpdeskUrl: string | undefined;
  userToken: string | undefined;
  collection: string | undefined;
}

/** Turns of the conversation sent with a follow-up question. */
const HISTORY_TURNS = 6;
const script = document.currentScript as HTMLScriptElement | null;

function attribute(element: Element, name: string): string | undefined {
  return element.getAttribute(`data-${name}`) ?? script?.getAttribute(`data-${name}`) ?? undefined;
}

function readSettings(element: Element): Settings {
  const source = script?.src ? new URL(script.src, location.href) : new URL(location.href);
  const suggestions = attribute(element, 'suggestions');
  let list: string[] = [];
  if (suggestions) {
    try {
      const parsed: unknown = JSON.parse(suggestions);
      list = Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === 'string') : [];
    } catch {
      list = suggestions
        .split('|')
        .map((item) => item.trim())
        .filter(Boolean);
    }
  }
  const accent = attribute(element, 'accent');
  return {
    apiBase: attribute(element, 'api') ?? source.origin,
    key: attribute(element, 'key') ?? '',
    title: attribute(element, 'title'),
    language: pickLanguage(attribute(element, 'lang')),
    position: attribute(element, 'position') === 'left' ? 'left' : 'right',
    // Only plain colour values: the attribute ends up in CSS.
    accent: accent && /^(#[0-9a-f]{3,8}|[a-z]+|rgb\(\s*\d+\s*,\s*\d+\s*,\s*\d+\s*\))$/i.test(accent) ? accent : undefined,
    welcome: attribute(element, 'welcome'),
    suggestions: list.slice(0, 6),
    helpdeskText: attribute(element, 'helpdesk-text'),
    helpdeskUrl: attribute(element, 'helpdesk-url'),
    userToken: attribute(element, 'user-token'),
    collection: attribute(element, 'collection'),
  };
}

function create<K extends keyof HTMLElementTagNameMap>(tag: K, properties: Partial<HTMLElementTagNameMap[K]> = {}, attributes: Record<string, string> = {}): HTMLElementTagNameMap[K] {
  const element = Object.assign(document.createElement(tag), properties);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  return element;
}

class RequestFailure extends Error {
  constructor(
    readonly kind: 'network' | 'rate-limited' | 'server' | 'denied',
    readonly retryAfter = 0,
  ) {
    super(kind);
  }
}

export class KbChatElement extends HTMLElement {
  private settings!: Settings;
  private t!: Texts;
  private messages: ChatMessage[] = [];
  private token: { value: string; expires: number } | undefined;
  private controller: AbortController | undefined;
  private composing = false;
  private readonly root = this.attachShadow({ mode: 'open' });
  private launcher: HTMLButtonElement | undefined;
  private panel!: HTMLElement;
  private log!: HTMLElement;
  private input!: HTMLTextAreaElement;
  private sendButton!: HTMLButtonElement;
  private status!: HTMLElement;
  private storageKey = '';

  connectedCallback(): void {
    if (this.panel) return;
    this.settings = readSettings(this);
    this.t = texts[this.settings.language];
    this.storageKey = `kb-chat:${this.settings.apiBase}:${this.settings.key}`;
    this.build();
    this.restore();
    this.render();
  }

  /** JS API for host pages: the end user the page vouches for (sent when the next session is requested). */
  setUserToken(token: string): void {
    this.settings.userToken = token;
    this.token = undefined;
  }

  open(): void {
    this.panel.hidden = false;
    this.launcher?.setAttribute('aria-expanded', 'true');
    this.input.focus();
  }

  close(): void {
    if (this.hasAttribute('inline')) return;
    this.panel.hidden = true;
    this.launcher?.setAttribute('aria-expanded', 'false');
    this.launcher?.focus();
  }

  private build(): void {
    const { t, settings } = this;
    const style = create('style', { textContent: styles });
    if (settings.accent) this.style.setProperty('--kb-accent', settings.accent);
    this.root.append(style);
    const inline = this.hasAttribute('inline');
    const panelId = 'kb-chat-panel';
    this.panel = create('section', { id: panelId, className: `panel ${settings.position}` }, { role: 'dialog', 'aria-label': settings.title ?? t.title });
    if (!inline) {
      this.panel.hidden = true;
      this.launcher = create('button', { className: `launcher ${settings.position}`, type: 'button', textContent: '?' }, { 'aria-label': t.open, 'aria-expanded': 'false', 'aria-controls': panelId });
      this.launcher.addEventListener('click', () => (this.panel.hidden ? this.open() : this.close()));
      this.root.append(this.launcher);
    }
    const header = create('header');
    const heading = create('h2', { textContent: settings.title ?? t.title });
    const buttons = create('div');
    const clear = create('button', { type: 'button', textContent: t.clear });
    clear.addEventListener('click', () => {
      this.controller?.abort();
      this.messages = [];
      this.save();
      this.render();
      this.input.focus();
    });
    buttons.append(clear);
    if (!inline) {
      const close = create('button', { type: 'button', textContent: '×' }, { 'aria-label': t.close });
      close.addEventListener('click', () => this.close());
      buttons.append(close);
    }
    header.append(heading, buttons);
    this.log = create('div', { className: 'log' }, { role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions text' });
    this.status = create('div', { className: 'status' }, { role: 'status' });
    const form = create('form');
    const label = create('label', { className: 'visually-hidden', htmlFor: 'kb-chat-input', textContent: t.inputLabel });
    const hint = create('span', { className: 'visually-hidden', id: 'kb-chat-input-hint', textContent: t.inputHint });
    this.input = create('textarea', { id: 'kb-chat-input', rows: 1, placeholder: t.placeholder, title: t.inputHint, maxLength: 4000 }, { 'aria-describedby': 'kb-chat-input-hint' });
    this.sendButton = create('button', { type: 'submit', textContent: t.send });
    form.append(label, hint, this.input, this.sendButton);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (this.controller) this.controller.abort();
      else this.submit(this.input.value);
    });
    // Chinese and Japanese input methods use Enter to confirm a candidate: never send during composition.
    this.input.addEventListener('compositionstart', () => (this.composing = true));
    this.input.addEventListener('compositionend', () => (this.composing = false));
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && !this.composing && event.keyCode !== 229) {
        event.preventDefault();
        if (!this.controller) this.submit(this.input.value);
      }
    });
    this.panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.stopPropagation();
        this.close();
      }
    });
    this.panel.append(header, this.log, this.status, form);
    this.root.append(this.panel);
  }

  private restore(): void {
    try {
      const saved = sessionStorage.getItem(this.storageKey);
      if (saved) this.messages = (JSON.parse(saved) as ChatMessage[]).filter((message) => message && typeof message.text === 'string');
    } catch {
      this.messages = [];
    }
  }

  private save(): void {
    try {
      sessionStorage.setItem(this.storageKey, JSON.stringify(this.messages.slice(-40)));
    } catch {
      // storage full or disabled: the conversation still works for this page view
    }
  }

  private render(): void {
    const { t } = this;
    this.log.replaceChildren();
    if (this.messages.length === 0) {
      const welcome = create('div', { className: 'message assistant' });
      welcome.append(renderMarkdown(this.settings.welcome ?? t.welcome));
      this.log.append(welcome);
      if (this.settings.suggestions.length > 0) {
        const list = create('div', { className: 'suggestions' }, { role: 'group', 'aria-label': t.suggestions });
        for (const suggestion of this.settings.suggestions) {
          const button = create('button', { type: 'button', textContent: suggestion });
          button.addEventListener('click', () => this.submit(suggestion));
          list.append(button);
        }
        this.log.append(list);
      }
    }
    for (const message of this.messages) this.log.append(this.renderMessage(message));
    this.log.scrollTop = this.log.scrollHeight;
    this.sendButton.textContent = this.controller ? t.stop : t.send;
    this.sendButton.className = this.controller ? 'stop' : '';
  }

  private renderMessage(message: ChatMessage): HTMLElement {
    const { t } = this;
    if (message.role === 'user') return create('div', { className: 'message user', textContent: message.text });
    if (message.role === 'error') {
      const box = create('div', { className: 'message error' }, { role: 'alert' });
      box.append(create('p', { textContent: message.text }));
      if (message.retryQuestion) box.append(this.retryButton(message));
      return box;
    }
    const box = create('div', { className: `message assistant${message.answerable === false ? ' refusal' : ''}` });
    const cards = create('div');
    const citations = new Map((message.citations ?? []).map((citation) => [citation.n, citation]));
    box.append(
      renderMarkdown(message.text || t.thinking, {
        citation: (n) => {
          const citation = citations.get(n);
          if (!citation) return null;
          const button = create('button', { type: 'button', className: 'cite', textContent: String(n) }, { 'aria-label': `${t.source} ${n}: ${citation.title}`, 'aria-expanded': 'false' });
          button.addEventListener('click', () => {
            const existing = cards.querySelector(`[data-n="${n}"]`);
            if (existing) {
              existing.remove();
              button.setAttribute('aria-expanded', 'false');
            } else {
              cards.append(this.sourceCard(citation));
              button.setAttribute('aria-expanded', 'true');
            }
          });
          return button;
        },
      }),
    );
    if (message.stopped) {
      box.append(create('p', { textContent: t.stopped }));
      if (message.retryQuestion) box.append(this.retryButton(message));
    }
    if (message.answerable === false) {
      const help = create('p');
      const helpUrl = this.settings.helpdeskUrl ? safeUrl(this.settings.helpdeskUrl) : null;
      const helpText = this.settings.helpdeskText ?? t.helpdesk;
      if (helpUrl) help.append(create('a', { href: helpUrl, textContent: helpText, target: '_blank', rel: 'noopener noreferrer' }));
      else help.textContent = helpText;
      box.append(help);
    }
    box.append(cards);
    if (message.answerId) box.append(this.feedbackButtons(message));
    return box;
  }

  /** Asks a failed or stopped question again, in place of the message that reported it. */
  private retryButton(message: ChatMessage): HTMLButtonElement {
    const retry = create('button', { type: 'button', textContent: this.t.retry });
    retry.addEventListener('click', () => {
      this.messages = this.messages.filter((item) => item !== message);
      this.submit(message.retryQuestion!, true);
    });
    return retry;
  }

  private sourceCard(citation: Citation): HTMLElement {
    const { t } = this;
    const card = create('div', { className: 'card' }, { 'data-n': String(citation.n) });
    card.append(create('h3', { textContent: `[${citation.n}] ${citation.title}` }));
    const where = [
      citation.headings?.join(' › '),
      citation.page !== undefined ? (this.settings.language === 'zh' ? t.page.replace('{n}', String(citation.page)) : `${t.page} ${citation.page}`) : undefined,
      citation.ocr ? t.ocr : undefined,
      citation.source,
    ]
      .filter(Boolean)
      .join(' · ');
    card.append(create('div', { className: 'where', textContent: where }));
    card.append(renderMarkdown(citation.snippet));
    // The same passage in other formats of the document: named once here rather than cited again.
    if (citation.alternatives && citation.alternatives.length > 0) {
      card.append(create('div', { className: 'where', textContent: `${t.alsoIn}: ${citation.alternatives.map((other) => other.source).join(', ')}` }));
    }
    // The document's own URL, else its original file on the knowledge-base server (a signed link).
    const href = citation.url ? safeUrl(citation.url) : citation.fileUrl ? safeUrl(new URL(citation.fileUrl, this.settings.apiBase).href) : null;
    if (href) card.append(create('a', { href, textContent: t.openDocument, target: '_blank', rel: 'noopener noreferrer' }));
    return card;
  }

  private feedbackButtons(message: ChatMessage): HTMLElement {
    const { t } = this;
    const actions = create('div', { className: 'actions' });
    const make = (rating: 'up' | 'down', symbol: string, label: string) => {
      const button = create('button', { type: 'button', textContent: symbol }, { 'aria-label': label, 'aria-pressed': String(message.rating === rating), 'data-rating': rating });
      button.addEventListener('click', async () => {
        try {
          await this.call('/v1/feedback', { answerId: message.answerId, rating });
          message.rating = rating;
          this.save();
          this.render();
          this.status.textContent = t.thanks;
        } catch (error) {
          this.status.textContent = this.describe(error);
        }
      });
      return button;
    };
    // Words, not emoji: emoji fonts are missing on many office machines, and a word needs no tooltip.
    actions.append(make('up', t.helpful, t.helpful), make('down', t.notHelpful, t.notHelpful));
    return actions;
  }

  private describe(error: unknown): string {
    const { t } = this;
    if (error instanceof RequestFailure) {
      if (error.kind === 'rate-limited') return t.errorRateLimited.replace('{seconds}', String(error.retryAfter || 60));
      if (error.kind === 'denied') return t.errorDenied;
      if (error.kind === 'server') return t.errorServer;
    }
    return t.errorNetwork;
  }

  private async session(): Promise<string> {
    if (this.token && this.token.expires - 30_000 > Date.now()) return this.token.value;
    const response = await this.fetchJson('/v1/widget/session', { key: this.settings.key, ...(this.settings.userToken ? { user: this.settings.userToken } : {}) }, undefined);
    const body = (await response.json()) as { token: string; expiresAt: string };
    this.token = { value: body.token, expires: Date.parse(body.expiresAt) };
    return body.token;
  }

  private async fetchJson(path: string, body: unknown, token: string | undefined, signal?: AbortSignal, accept = 'application/json'): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(this.settings.apiBase + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new RequestFailure('network');
    }
    if (response.status === 429) throw new RequestFailure('rate-limited', Number(response.headers.get('retry-after') ?? 0));
    if (response.status === 401) throw new RequestFailure('denied');
    if (response.status === 403) throw new RequestFailure('denied');
    if (!response.ok) throw new RequestFailure('server');
    return response;
  }

  /** An authenticated call; an expired session is renewed once. */
  private async call(path: string, body: unknown, signal?: AbortSignal, accept?: string): Promise<Response> {
    try {
      return await this.fetchJson(path, body, await this.session(), signal, accept);
    } catch (error) {
      if (error instanceof RequestFailure && error.kind === 'denied' && this.token) {
        this.token = undefined;
        return this.fetchJson(path, body, await this.session(), signal, accept);
      }
      throw error;
    }
  }

  private async submit(raw: string, isRetry = false): Promise<void> {
    const question = raw.trim();
    if (!question || this.controller) return;
    const history = this.messages
      .filter((message) => message.role !== 'error' && message.text)
      .slice(-HISTORY_TURNS)
      .map((message) => ({ role: message.role as 'user' | 'assistant', content: message.text.slice(0, 8000) }));
    if (!isRetry || this.messages.at(-1)?.text !== question) this.messages.push({ role: 'user', text: question });
    this.input.value = '';
    const answer: ChatMessage = { role: 'assistant', text: '' };
    this.messages.push(answer);
    const controller = new AbortController();
    this.controller = controller;
    this.status.textContent = this.t.thinking;
    this.render();
    let pending = false;
    const update = () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        this.render();
      });
    };
    try {
      const response = await this.call(
        '/v1/ask',
        { question, history, stream: true, ...(this.settings.collection ? { collection: this.settings.collection } : {}) },
        controller.signal,
        'text/event-stream',
      );
      if (!response.body) throw new RequestFailure('server');
      for await (const event of readEvents(response.body)) {
        const data = JSON.parse(event.data) as Record<string, unknown>;
        if (event.event === 'sources') answer.citations = (data['sources'] as Citation[]) ?? [];
        else if (event.event === 'delta') {
          answer.text += String(data['text'] ?? '');
          update();
        } else if (event.event === 'done') {
          answer.text = String(data['answer'] ?? answer.text);
          answer.citations = (data['citations'] as Citation[]) ?? [];
          // Small talk ("thanks!") is a plain reply: neither an answer with sources nor a "not found" with the help desk.
          const smallTalk = data['kind'] === 'smalltalk';
          answer.answerable = smallTalk ? undefined : data['answerable'] !== false;
          answer.answerId = typeof data['answerId'] === 'string' ? data['answerId'] : undefined;
          if (answer.answerable === false) answer.text = `${this.t.notFound}\n\n${answer.text}`;
        } else if (event.event === 'error') throw new RequestFailure('server');
      }
      this.status.textContent = '';
    } catch (error) {
      if (controller.signal.aborted) {
        answer.stopped = true;
        answer.retryQuestion = question;
        this.status.textContent = '';
      } else {
        this.messages = this.messages.filter((message) => message !== answer);
        this.messages.push({ role: 'error', text: this.describe(error), retryQuestion: question });
        this.status.textContent = '';
      }
    } finally {
      this.controller = undefined;
      this.save();
      this.render();
    }
  }
}

if (!customElements.get('kb-chat')) customElements.define('kb-chat', KbChatElement);

// The script tag alone gives the floating launcher, unless the page placed its own <kb-chat> elements.
function mount(): void {
  if (document.querySelector('kb-chat')) return;
  const element = document.createElement('kb-chat');
  document.body.append(element);
}
if (script?.hasAttribute('data-key')) {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', mount);
  else mount();
}

declare global {
  interface Window {
    KbChat?: { element: () => KbChatElement | null; setUserToken: (token: string) => void; open: () => void };
  }
}
window.KbChat = {
  element: () => document.querySelector('kb-chat') as KbChatElement | null,
  setUserToken: (token) => (document.querySelector('kb-chat') as KbChatElement | null)?.setUserToken(token),
  open: () => (document.querySelector('kb-chat') as KbChatElement | null)?.open(),
};
