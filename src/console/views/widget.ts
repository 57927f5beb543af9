// Widget: a widget key, the embed snippet with its options, and a live preview.
import { api, query } from '../api.ts';
import { append, button, copyText, field, h, input, listOf, notify, select } from '../dom.ts';
import { t } from '../i18n.ts';
import { fail, type Context } from './shared.ts';

const WIDGET_KEY_STORAGE = 'kb-console-widget-key';

export async function widgetView(main: HTMLElement, context: Context): Promise<void> {
  // A widget key is public (it is in every page that embeds the chat): kept for this tab, not to be pasted again.
  const key = input({ placeholder: 'pk_…', testid: 'widget-key', value: sessionStorage.getItem(WIDGET_KEY_STORAGE) ?? '' });
  key.addEventListener('change', () => sessionStorage.setItem(WIDGET_KEY_STORAGE, key.value.trim()));
  const origins = input({ value: location.origin });
  const title = input({ value: t('brand') === '知识库控制台' ? '服务台助手' : 'Help desk assistant' });
  const language = select(
    [
      ['', t('widget.auto')],
      ['zh', '中文'],
      ['en', 'English'],
    ],
    '',
  );
  const position = select(
    [
      ['right', t('widget.right')],
      ['left', t('widget.left')],
    ],
    'right',
  );
  const accent = input({ value: '#0f766e' });
  const welcome = input();
  const suggestions = h('textarea', { rows: 3 });
  const snippet = h('pre', { className: 'code', testid: 'widget-snippet' });
  const preview = h('iframe', { className: 'preview', title: t('widget.preview'), testid: 'widget-preview' });
  const options = () => {
    const list = suggestions.value
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    return {
      key: key.value.trim(),
      ...(title.value.trim() ? { title: title.value.trim() } : {}),
      ...(language.value ? { lang: language.value } : {}),
      ...(context.collection !== 'default' ? { collection: context.collection } : {}),
      ...(position.value === 'left' ? { position: 'left' } : {}),
      ...(accent.value.trim() ? { accent: accent.value.trim() } : {}),
      ...(welcome.value.trim() ? { welcome: welcome.value.trim() } : {}),
      ...(list.length ? { suggestions: list.join('|') } : {}),
    };
  };
  const escapeAttribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const update = () => {
    const attributes = Object.entries(options())
      .map(([name, value]) => `\n  data-${name}="${escapeAttribute(value || 'PASTE_WIDGET_KEY')}"`)
      .join('');
    snippet.textContent = `<script src="${location.origin}/widget.js"${attributes}\n  async></script>`;
  };
  for (const control of [key, title, language, position, accent, welcome, suggestions]) control.addEventListener('input', update);
  for (const control of [language, position]) control.addEventListener('change', update);
  update();
  const showPreview = () => {
    if (!key.value.trim()) return notify(t('widget.previewNeedsKey', { origin: location.origin }), 'error');
    preview.src = `/admin/widget-preview${query(options())}`;
    preview.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  };
  const createKey = button(
    t('widget.createKey'),
    () => {
      api<{ key: string }>('POST', '/v1/keys', { scope: 'widget', label: 'widget', origins: listOf(origins.value, /[\s,]+/) })
        .then((created) => {
          key.value = created.key;
          sessionStorage.setItem(WIDGET_KEY_STORAGE, created.key);
          update();
          showPreview();
        })
        .catch(fail);
    },
    { testid: 'widget-create-key' },
  );
  const copy = button(t('widget.copySnippet'), () => void copyText(snippet.textContent ?? '', copy), { className: 'primary', testid: 'widget-copy' });
  append(
    main,
    h('h1', {}, t('page.widget')),
    h(
      'section',
      { className: 'card' },
      h('p', {}, t('widget.intro')),
      h('h2', {}, t('widget.key')),
      h('p', { className: 'muted' }, t('widget.keyHelp')),
      h('div', { className: 'row' }, field(t('widget.key'), key), field(t('widget.keyOrigins'), origins), createKey),
      h('h2', {}, t('widget.options')),
      h('div', { className: 'row' }, field(t('widget.title'), title), field(t('widget.language'), language), field(t('widget.position'), position), field(t('widget.accent'), accent)),
      h('div', { className: 'row' }, field(t('widget.welcome'), welcome), field(t('widget.suggestions'), suggestions)),
    ),
    h('section', { className: 'card' }, h('h2', {}, t('widget.snippet')), snippet, h('div', { className: 'row' }, copy)),
    h('section', { className: 'card' }, h('h2', {}, t('widget.preview')), h('div', { className: 'row' }, button(t('widget.refresh'), showPreview, { testid: 'widget-show-preview' })), preview),
  );
  if (key.value) preview.src = `/admin/widget-preview${query(options())}`;
}
