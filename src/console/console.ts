// The admin console (/admin): a small single-page app in plain TypeScript, bundled by esbuild when the server starts
// (server/script-bundles.ts) and served with a strict CSP. Sign-in exchanges an admin key for an HttpOnly session
// cookie and a CSRF token (POST /v1/console/session); each page is a view over the public API (views/, a module per page).
import { api, useSession } from './api.ts';
import { button, clear, h, input, notify, select } from './dom.ts';
import { language, pickLanguage, setLanguage, t, type Language, type MessageKey } from './i18n.ts';
import { CONSOLE_PAGES, type ConsolePage } from './pages.ts';
import { views, type Context } from './views/index.ts';

interface Session {
  csrfToken: string;
  expiresAt: string;
  keyId: string;
  logRetentionDays: number;
  answerThreshold: number;
}

const LANGUAGE_STORAGE = 'kb-console-language';
const COLLECTION_STORAGE = 'kb-console-collection';
const root = document.getElementById('console')!;
let session: Session | undefined;
let collections: string[] = ['default'];
let collection = localStorage.getItem(COLLECTION_STORAGE) ?? 'default';
/** Ends the current page's timers (job polling) when another page is shown. */
let leavePage: (() => void) | undefined;

setLanguage(pickLanguage(localStorage.getItem(LANGUAGE_STORAGE), navigator.languages ?? [navigator.language]));

function pageFromPath(): ConsolePage | undefined {
  const name = location.pathname.replace(/^\/admin\/?/, '').split('/')[0] ?? '';
  return (CONSOLE_PAGES as readonly string[]).includes(name) ? (name as ConsolePage) : undefined;
}

function applyLanguage(): void {
  document.documentElement.lang = language() === 'zh' ? 'zh-CN' : 'en';
  document.title = t('brand');
}

function languageSwitch(onChange: () => void): HTMLLabelElement {
  const chooser = select(
    [
      ['en', 'English'],
      ['zh', '中文'],
    ],
    language(),
    { testid: 'language-select', attributes: { 'aria-label': t('languageLabel') } },
  );
  chooser.addEventListener('change', () => {
    setLanguage(chooser.value as Language);
    localStorage.setItem(LANGUAGE_STORAGE, chooser.value);
    onChange();
  });
  return h('label', {}, t('languageLabel'), chooser);
}

function showSignIn(message?: MessageKey): void {
  leavePage?.();
  session = undefined;
  applyLanguage();
  if (location.pathname !== '/admin') history.replaceState(null, '', `/admin?next=${encodeURIComponent(location.pathname)}`);
  const key = input({ type: 'password', autocomplete: 'current-password', required: true, testid: 'login-key', id: 'login-key' });
  const failure = h('div', { attributes: { role: 'alert' } });
  const form = h(
    'form',
    { className: 'card login' },
    h('h1', {}, t('login.title')),
    message ? h('div', { className: 'notice ok' }, t(message)) : null,
    h('p', {}, t('login.help')),
    h('label', { className: 'field', htmlFor: 'login-key' }, t('login.key'), key),
    failure,
    h('div', { className: 'row' }, h('button', { type: 'submit', className: 'primary', testid: 'login-submit' }, t('login.submit'))),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clear(failure);
    api<Session>('POST', '/v1/console/session', { key: key.value })
      .then((opened) => {
        const next = new URLSearchParams(location.search).get('next');
        const page = next && /^\/admin\/[a-z]+$/.test(next) ? next : '/admin/documents';
        history.replaceState(null, '', page);
        void start(opened);
      })
      .catch((error: Error) => failure.replaceChildren(h('div', { className: 'notice error' }, error.message)));
  });
  clear(root);
  root.append(
    h(
      'header',
      { className: 'top' },
      h('strong', {}, t('brand')),
      languageSwitch(() => showSignIn(message)),
    ),
    form,
  );
  key.focus();
}

async function refreshCollections(): Promise<void> {
  const listed = await api<{ collections: { name: string }[] }>('GET', '/v1/collections');
  collections = listed.collections.map((entry) => entry.name);
  if (!collections.includes(collection)) collection = collections[0] ?? 'default';
}

function render(): void {
  leavePage?.();
  leavePage = undefined;
  applyLanguage();
  const page = pageFromPath() ?? 'documents';
  const chooser = select(
    collections.map((name) => [name, name] as const),
    collection,
    { testid: 'collection-select', attributes: { 'aria-label': t('collectionLabel') } },
  );
  chooser.addEventListener('change', () => {
    collection = chooser.value;
    localStorage.setItem(COLLECTION_STORAGE, collection);
    render();
  });
  const signOut = button(
    t('signOut'),
    () => {
      api('DELETE', '/v1/console/session')
        .then(() => showSignIn('login.signedOut'))
        .catch((error: Error) => notify(error.message, 'error'));
    },
    { testid: 'sign-out' },
  );
  const nav = h(
    'nav',
    { className: 'side', attributes: { 'aria-label': t('brand') } },
    ...CONSOLE_PAGES.map((name) => {
      const link = h('a', { href: `/admin/${name}`, testid: `nav-${name}` }, t(`page.${name}` as MessageKey));
      if (name === page) link.setAttribute('aria-current', 'page');
      link.addEventListener('click', (event) => {
        event.preventDefault();
        history.pushState(null, '', `/admin/${name}`);
        render();
      });
      return link;
    }),
  );
  const main = h('main', { attributes: { 'data-page': page } });
  clear(root);
  root.append(
    h('header', { className: 'top' }, h('strong', {}, t('brand')), h('label', {}, t('collectionLabel'), chooser), languageSwitch(render), signOut),
    h('div', { className: 'layout' }, nav, main),
  );
  const context: Context = {
    collection,
    session: session!,
    onLeave: (stop) => {
      const previous = leavePage;
      leavePage = () => {
        previous?.();
        stop();
      };
    },
    collectionsChanged: async () => {
      await refreshCollections();
      render();
    },
  };
  views[page](main, context)
    // Marked when its first data is shown: tests and screenshots wait for it.
    .then(() => main.setAttribute('data-ready', 'true'))
    .catch((error: Error) => main.append(h('div', { className: 'notice error' }, error.message)));
}

async function start(opened: Session): Promise<void> {
  session = opened;
  useSession(opened.csrfToken, () => showSignIn('login.expired'));
  try {
    await refreshCollections();
  } catch (error) {
    notify((error as Error).message, 'error');
  }
  render();
}

window.addEventListener('popstate', () => (session ? render() : showSignIn()));

api<{ signedIn: false } | (Session & { signedIn: true })>('GET', '/v1/console/session')
  .then((current) => {
    if (!current.signedIn) return showSignIn();
    if (!pageFromPath()) history.replaceState(null, '', '/admin/documents');
    return start(current);
  })
  .catch((error: Error) => {
    showSignIn();
    notify(error.message, 'error');
  });
