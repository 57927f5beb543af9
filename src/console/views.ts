// The console's pages, each a view over the public API for the current collection.
import { api, query } from './api.ts';
import { append, badge, button, clear, copyText, field, formatTime, h, input, listOf, notify, openDialog, select } from './dom.ts';
import { t, type MessageKey } from './i18n.ts';
import type { ConsolePage } from './pages.ts';
import { DOCUMENT_FORMATS, formatByExtension } from '../ingest/formats.ts';

export interface Context {
  collection: string;
  session: { csrfToken: string; logRetentionDays: number; answerThreshold: number };
  /** Registers what to stop (timers) when the user leaves the page. */
  onLeave(stop: () => void): void;
  collectionsChanged(): Promise<void>;
}

interface DocumentView {
  id: string;
  source: string;
  title: string;
  format: string;
  language: 'zh' | 'en';
  chunkCount: number;
  pageCount?: number;
  updatedAt: string;
  metadata?: { tags?: string[]; department?: string };
  groups?: string[];
  url?: string;
}
interface JobView {
  id: string;
  kind: string;
  collection: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed';
  progress: { done: number; total: number; ocr?: { file: string; pages: number; total: number } };
  files: { name: string; status: string; error?: string; warning?: string; duplicateOf?: string }[];
  error?: string;
  createdAt: string;
  finishedAt?: string;
}
interface SourceView {
  documentId: string;
  title: string;
  source: string;
  page?: number;
}
interface ConversationView {
  id: string;
  question: string;
  answer: string;
  answerable: boolean;
  confidence?: number;
  collection?: string;
  sources?: SourceView[];
  user?: string;
  createdAt: string;
  rating?: 'up' | 'down';
  comment?: string;
}
interface CuratedView {
  id: string;
  question: string;
  answer: string;
  sources: SourceView[];
  fromAnswerId?: string;
  updatedAt: string;
}
interface KeyView {
  id: string;
  scope: 'admin' | 'query' | 'widget';
  label?: string;
  collection?: string;
  origins?: string[];
  groups?: string[];
  rateLimitPerMinute?: number;
  createdAt: string;
}

const PAGE_SIZE = 20;
const WIDGET_KEY_STORAGE = 'kb-console-widget-key';
const POLL_MILLISECONDS = 2000;
const ACCEPTED = Object.keys(formatByExtension).join(',');

/** "Title · Chapter › Section · page 2": a location without the title repeated as the first heading. */
function locationOf(entry: { title?: string; headings?: string[]; page?: number }, withTitle: boolean): string {
  const headings = entry.headings?.[0] === entry.title ? entry.headings?.slice(1) : entry.headings;
  return [withTitle ? entry.title : '', headings?.join(' › '), entry.page !== undefined ? t('chunks.page', { page: entry.page }) : ''].filter(Boolean).join(' · ');
}

const collectionPath = (context: Context) => `/v1/collections/${encodeURIComponent(context.collection)}`;
const fail = (error: Error) => notify(error.message, 'error');

function table(testid: string, headings: string[], rows: HTMLTableRowElement[]): HTMLElement {
  return h(
    'div',
    { className: 'table-wrap' },
    h('table', { testid }, h('thead', {}, h('tr', {}, ...headings.map((heading) => h('th', { scope: 'col' }, heading)))), h('tbody', {}, ...rows)),
    rows.length === 0 ? h('p', { className: 'muted' }, t('none')) : null,
  );
}

/** Previous / next buttons and "1–20 of 57" under a paged list. */
function pager(offset: number, count: number, total: number, go: (offset: number) => void): HTMLElement {
  return h(
    'div',
    { className: 'pager' },
    button(t('previous'), () => go(Math.max(0, offset - PAGE_SIZE)), { disabled: offset === 0 }),
    h('span', { className: 'muted' }, total === 0 ? '' : t('pageOf', { from: offset + 1, to: offset + count, total })),
    button(t('next'), () => go(offset + PAGE_SIZE), { disabled: offset + count >= total }),
  );
}

/** One page of a paged list: what to show, how many rows it has, how many there are in all. */
interface ListPage {
  content: Node[];
  count: number;
  total: number;
  after?: Node;
}

/** A list shown a page at a time in `area`: keeps the offset and draws the pager; `reload` starts at the first page. */
function pagedList(area: HTMLElement, loadPage: (offset: number) => Promise<ListPage | undefined>): { show: () => Promise<void>; reload: () => void } {
  let offset = 0;
  const show = async (): Promise<void> => {
    const page = await loadPage(offset);
    if (!page) return;
    area.replaceChildren(
      ...page.content,
      pager(offset, page.count, page.total, (next) => {
        offset = next;
        void show().catch(fail);
      }),
      page.after ?? '',
    );
  };
  return {
    show,
    reload: () => {
      offset = 0;
      void show().catch(fail);
    },
  };
}

function stateBadge(state: JobView['state']): HTMLElement {
  return badge(t(`state.${state}`), state);
}

/** Polls a job until it ends; calls back with each state. Stops when the page is left. */
function watchJob(context: Context, jobId: string, onUpdate: (job: JobView) => void): void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  context.onLeave(() => {
    stopped = true;
    clearTimeout(timer);
  });
  const poll = () => {
    api<JobView>('GET', `/v1/jobs/${jobId}`)
      .then((job) => {
        if (stopped) return;
        onUpdate(job);
        if (job.state === 'queued' || job.state === 'running') timer = setTimeout(poll, POLL_MILLISECONDS);
      })
      .catch(fail);
  };
  poll();
}

// ---- Documents ---------------------------------------------------------------------------------------------------

function uploadCard(context: Context, uploaded: () => void): HTMLElement {
  const files = input({ type: 'file', multiple: true, accept: ACCEPTED, testid: 'upload-input', id: 'upload-input' });
  const chosen = h('div', { className: 'muted' });
  const drop = h('label', { className: 'drop', htmlFor: 'upload-input' }, h('strong', {}, t('upload.drop')), h('div', { className: 'muted' }, t('upload.formats')), files, chosen);
  const showChosen = () => (chosen.textContent = files.files && files.files.length > 0 ? t('upload.chosen', { count: files.files.length }) : '');
  files.addEventListener('change', showChosen);
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    if (event.dataTransfer?.files.length) {
      files.files = event.dataTransfer.files;
      showChosen();
    }
  });
  const title = input({ testid: 'upload-title' });
  const url = input({ type: 'url', placeholder: 'https://…', testid: 'upload-url' });
  const tags = input({ testid: 'upload-tags' });
  const department = input({ testid: 'upload-department' });
  const groups = input({ testid: 'upload-groups' });
  const status = h('div', { attributes: { role: 'status' }, testid: 'upload-status' });
  const submit = button(
    t('upload.submit'),
    () => {
      const list = files.files;
      if (!list || list.length === 0) return status.replaceChildren(h('div', { className: 'notice error' }, t('upload.noFiles')));
      const metadata = {
        ...(title.value.trim() ? { title: title.value.trim() } : {}),
        ...(url.value.trim() ? { url: url.value.trim() } : {}),
        ...(listOf(tags.value).length ? { tags: listOf(tags.value) } : {}),
        ...(department.value.trim() ? { department: department.value.trim() } : {}),
        ...(listOf(groups.value).length ? { groups: listOf(groups.value) } : {}),
      };
      const form = new FormData();
      // The metadata field first: the server reads the parts in order.
      if (Object.keys(metadata).length > 0) form.append('metadata', JSON.stringify(metadata));
      for (const file of Array.from(list)) form.append('files', file, file.name);
      submit.disabled = true;
      api<{ job: JobView }>('POST', `${collectionPath(context)}/documents`, form)
        .then(({ job }) => {
          files.value = '';
          showChosen();
          status.replaceChildren(h('div', { className: 'notice ok' }, t('upload.started', { job: job.id.slice(0, 8), count: job.files.length })));
          watchJob(context, job.id, (current) => {
            if (current.state !== 'succeeded' && current.state !== 'failed') return;
            const problems = current.files.filter((entry) => entry.error || entry.warning).map((entry) => `${entry.name}: ${entry.error ?? entry.warning}`);
            status.replaceChildren(
              h(
                'div',
                { className: `notice ${current.state === 'succeeded' && problems.length === 0 ? 'ok' : 'error'}` },
                t('upload.finished', { job: job.id.slice(0, 8), state: t(`state.${current.state}`) }),
                ...problems.map((problem) => h('div', {}, problem)),
              ),
            );
            uploaded();
          });
        })
        .catch((error: Error) => status.replaceChildren(h('div', { className: 'notice error' }, error.message)))
        .finally(() => (submit.disabled = false));
    },
    { className: 'primary', testid: 'upload-submit' },
  );
  return h(
    'section',
    { className: 'card' },
    h('h2', {}, t('upload.title')),
    drop,
    h(
      'div',
      { className: 'row' },
      field(t('upload.docTitle'), title),
      field(t('upload.url'), url),
      field(t('upload.tags'), tags),
      field(t('upload.department'), department),
      field(t('upload.groups'), groups),
    ),
    h('div', { className: 'row' }, submit),
    status,
  );
}

function showChunks(context: Context, document: DocumentView): void {
  const body = h('div', { testid: 'chunks-list' }, t('loading'));
  openDialog(t('chunks.title', { name: document.title }), body);
  api<{ chunks: { ordinal: number; text: string; headings: string[]; page?: number; startOffset: number; endOffset: number; tokenCount: number; ocr?: boolean }[] }>(
    'GET',
    `${collectionPath(context)}/documents/${document.id}/chunks`,
  )
    .then(({ chunks }) => {
      clear(body);
      for (const chunk of chunks) {
        const where = [
          `#${chunk.ordinal + 1}`,
          chunk.headings.join(' › '),
          chunk.page !== undefined ? t('chunks.page', { page: chunk.page }) : '',
          `${chunk.startOffset}–${chunk.endOffset}`,
          t('chunks.tokens', { tokens: chunk.tokenCount }),
          chunk.ocr ? t('chunks.ocr') : '',
        ]
          .filter(Boolean)
          .join(' · ');
        body.append(h('div', { className: 'chunk', testid: 'chunk' }, h('div', { className: 'where' }, where), h('div', { className: 'text' }, chunk.text)));
      }
      if (chunks.length === 0) body.append(h('p', { className: 'muted' }, t('none')));
    })
    .catch((error: Error) => body.replaceChildren(h('div', { className: 'notice error' }, error.message)));
}

async function documentsView(main: HTMLElement, context: Context): Promise<void> {
  const listArea = h('div');
  const filters = {
    q: input({ type: 'search', testid: 'documents-search' }),
    format: select([['', t('any')], ...DOCUMENT_FORMATS.map((format) => [format, format] as const)], '', { testid: 'documents-format' }),
    language: select(
      [
        ['', t('any')],
        ['zh', '中文'],
        ['en', 'English'],
      ],
      '',
    ),
    tag: input(),
    department: input(),
    group: input(),
  };
  const list = pagedList(listArea, async (offset) => {
    const found = await api<{ documents: DocumentView[]; total: number }>(
      'GET',
      `${collectionPath(context)}/documents${query({
        limit: PAGE_SIZE,
        offset,
        q: filters.q.value.trim(),
        format: filters.format.value,
        language: filters.language.value,
        tag: filters.tag.value.trim(),
        department: filters.department.value.trim(),
        group: filters.group.value.trim(),
      })}`,
    );
    const rows = found.documents.map((document) => {
      const reindex = button(t('documents.reindex'), () => {
        api<{ job: JobView }>('POST', `${collectionPath(context)}/documents/${document.id}/reindex`)
          .then(({ job }) => {
            notify(t('documents.reindexStarted', { job: job.id.slice(0, 8) }));
            watchJob(context, job.id, (current) => current.state === 'succeeded' && void list.show().catch(fail));
          })
          .catch(fail);
      });
      const remove = button(
        t('delete'),
        () => {
          if (!confirm(t('confirmDelete', { name: document.title }))) return;
          api('DELETE', `${collectionPath(context)}/documents/${document.id}`)
            .then(() => {
              notify(t('documents.deleted', { name: document.title }));
              return list.show();
            })
            .catch(fail);
        },
        { className: 'danger', testid: 'document-delete' },
      );
      const download = h(
        'a',
        { className: 'button', href: `${collectionPath(context)}/documents/${document.id}/file`, target: '_blank', rel: 'noopener', testid: 'document-download' },
        t('documents.download'),
      );
      return h(
        'tr',
        { testid: 'document-row' },
        h('td', {}, document.title, h('span', { className: 'sub' }, document.source)),
        h('td', {}, document.format),
        h('td', {}, document.language),
        h('td', {}, document.chunkCount),
        h('td', {}, document.pageCount ?? ''),
        h('td', {}, [...(document.metadata?.tags ?? []), document.metadata?.department].filter(Boolean).join(', ')),
        h('td', {}, document.groups?.join(', ') ?? t('documents.everyone')),
        h('td', {}, formatTime(document.updatedAt)),
        h(
          'td',
          { className: 'actions' },
          button(t('documents.viewChunks'), () => showChunks(context, document), { testid: 'document-chunks' }),
          ' ',
          download,
          ' ',
          reindex,
          ' ',
          remove,
        ),
      );
    });
    return {
      content: [
        table(
          'documents-table',
          [
            t('documents.title'),
            t('documents.format'),
            t('documents.language'),
            t('documents.chunks'),
            t('documents.pages'),
            t('documents.metadata'),
            t('documents.groups'),
            t('documents.updated'),
            t('documents.actions'),
          ],
          rows,
        ),
      ],
      count: found.documents.length,
      total: found.total,
    };
  });
  const search = list.reload;
  for (const control of Object.values(filters))
    control.addEventListener('keydown', (event) => {
      if ((event as KeyboardEvent).key === 'Enter') search();
    });
  filters.format.addEventListener('change', search);
  filters.language.addEventListener('change', search);
  const reindexAll = button(t('documents.reindexAll'), () => {
    api<{ job: JobView }>('POST', `${collectionPath(context)}/reindex`)
      .then(({ job }) => notify(t('documents.reindexStarted', { job: job.id.slice(0, 8) })))
      .catch(fail);
  });
  append(
    main,
    h('h1', {}, `${t('page.documents')} · ${context.collection}`),
    uploadCard(context, () => void list.show().catch(fail)),
    h(
      'section',
      { className: 'card' },
      h('h2', {}, t('documents.filters')),
      h(
        'div',
        { className: 'row' },
        field(t('documents.query'), filters.q),
        field(t('documents.format'), filters.format),
        field(t('documents.language'), filters.language),
        field(t('documents.tag'), filters.tag),
        field(t('documents.department'), filters.department),
        field(t('documents.group'), filters.group),
        button(t('search'), search, { className: 'primary', testid: 'documents-search-submit' }),
        reindexAll,
      ),
      listArea,
    ),
  );
  await list.show();
}

// ---- Jobs --------------------------------------------------------------------------------------------------------

function jobProgress(job: JobView): HTMLElement {
  const bar = h('progress', { max: Math.max(1, job.progress.total), value: job.state === 'succeeded' ? Math.max(1, job.progress.total) : job.progress.done });
  const ocr = job.progress.ocr;
  return h('div', {}, bar, ` ${job.progress.done}/${job.progress.total}`, ocr ? h('span', { className: 'sub' }, t('jobs.ocr', { file: ocr.file, pages: ocr.pages, total: ocr.total })) : null);
}

async function jobsView(main: HTMLElement, context: Context): Promise<void> {
  const listArea = h('div');
  const state = select([['', t('any')], ...(['queued', 'running', 'succeeded', 'failed'] as const).map((name) => [name, t(`state.${name}`)] as const)], '', { testid: 'jobs-state' });
  const onlyThis = h('input', { type: 'checkbox', checked: false });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let left = false;
  context.onLeave(() => {
    left = true;
    clearTimeout(timer);
  });
  const list = pagedList(listArea, async (offset) => {
    clearTimeout(timer);
    const listed = await api<{ jobs: JobView[]; total: number }>('GET', `/v1/jobs${query({ limit: PAGE_SIZE, offset, state: state.value, collection: onlyThis.checked ? context.collection : '' })}`);
    if (left) return undefined;
    const rows = listed.jobs.map((job) =>
      h(
        'tr',
        { testid: 'job-row', attributes: { 'data-state': job.state, 'data-job': job.id } },
        h('td', {}, h('code', {}, job.id.slice(0, 8))),
        h('td', {}, t(`kind.${job.kind}` as MessageKey)),
        h('td', {}, job.collection),
        h('td', {}, stateBadge(job.state), job.error ? h('span', { className: 'sub' }, job.error) : null),
        h('td', {}, jobProgress(job)),
        h(
          'td',
          {},
          job.files.length === 0
            ? ''
            : h(
                'details',
                {},
                h('summary', {}, `${job.files.length}`),
                h(
                  'ul',
                  {},
                  ...job.files.map((file) =>
                    h('li', {}, `${file.name} `, badge(file.status, file.status), file.error || file.warning ? h('span', { className: 'sub' }, file.error ?? file.warning) : null),
                  ),
                ),
              ),
        ),
        h('td', {}, formatTime(job.createdAt)),
        h('td', {}, formatTime(job.finishedAt)),
      ),
    );
    const active = listed.jobs.some((job) => job.state === 'queued' || job.state === 'running');
    // Live progress: refreshed while anything on the page is still queued or running.
    if (active) timer = setTimeout(() => void list.show().catch(fail), POLL_MILLISECONDS);
    return {
      content: [table('jobs-table', [t('keys.id'), t('jobs.kind'), t('jobs.collection'), t('jobs.state'), t('jobs.progress'), t('jobs.files'), t('jobs.created'), t('jobs.finished')], rows)],
      count: listed.jobs.length,
      total: listed.total,
      ...(active ? { after: h('p', { className: 'muted' }, t('jobs.autoRefresh')) } : {}),
    };
  });
  state.addEventListener('change', list.reload);
  onlyThis.addEventListener('change', list.reload);
  append(
    main,
    h('h1', {}, t('page.jobs')),
    h(
      'section',
      { className: 'card' },
      h('div', { className: 'row' }, field(t('jobs.state'), state), h('label', { className: 'check' }, onlyThis, `${t('collectionLabel')}: ${context.collection}`)),
      listArea,
    ),
  );
  await list.show();
}

// ---- Collections -------------------------------------------------------------------------------------------------

async function collectionsView(main: HTMLElement, context: Context): Promise<void> {
  const listed = await api<{
    collections: { name: string; documents?: number; chunks?: number; embedder?: string; createdAt?: string; settings: { languages?: string[]; chunkTokens?: number; chunkOverlap?: number } }[];
  }>('GET', '/v1/collections');
  const switchModel = (name: string) => {
    const embedder = select(
      [
        ['auto', 'auto'],
        ['builtin', 'builtin'],
        ['transformers', 'transformers'],
      ],
      'auto',
      { testid: 'embedder-select' },
    );
    const model = input({ testid: 'embedder-model' });
    const status = h('div', { attributes: { role: 'status' } });
    const dialog = openDialog(
      t('collections.switchTitle', { name }),
      h('p', {}, t('collections.switchHelp')),
      h('div', { className: 'row' }, field(t('collections.embedder'), embedder), field(t('collections.model'), model)),
      status,
      h(
        'div',
        { className: 'row' },
        button(
          t('collections.switch'),
          () => {
            api<{ job: { id: string } }>('POST', `/v1/collections/${encodeURIComponent(name)}/embedder`, {
              embedder: embedder.value,
              ...(model.value.trim() ? { embeddingModel: model.value.trim() } : {}),
            })
              .then(({ job }) => {
                status.replaceChildren(h('div', { className: 'notice ok' }, t('collections.switchStarted', { job: job.id.slice(0, 8) })));
                const progress = h('div');
                status.append(progress);
                watchJob(context, job.id, (current) => progress.replaceChildren(stateBadge(current.state), ' ', jobProgress(current)));
              })
              .catch((error: Error) => status.replaceChildren(h('div', { className: 'notice error' }, error.message)));
          },
          { className: 'primary', testid: 'embedder-submit' },
        ),
      ),
    );
    dialog.addEventListener('close', () => void context.collectionsChanged());
  };
  const rows = listed.collections.map((collection) =>
    h(
      'tr',
      { testid: 'collection-row' },
      h('td', {}, collection.name),
      h('td', {}, collection.documents ?? ''),
      h('td', {}, collection.chunks ?? ''),
      h('td', {}, collection.embedder ?? ''),
      h('td', {}, collection.settings.languages?.join(', ') ?? t('collections.both')),
      h(
        'td',
        {},
        [
          collection.settings.chunkTokens ? t('collections.chunkTokensValue', { tokens: collection.settings.chunkTokens }) : '',
          collection.settings.chunkOverlap !== undefined ? t('collections.overlapValue', { tokens: collection.settings.chunkOverlap }) : '',
        ]
          .filter(Boolean)
          .join(' · ') || t('collections.defaults'),
      ),
      h('td', {}, formatTime(collection.createdAt)),
      h(
        'td',
        { className: 'actions' },
        collection.name === 'default'
          ? h('span', { className: 'muted' }, t('collections.defaultFixed'))
          : button(t('collections.switch'), () => switchModel(collection.name), { testid: 'collection-switch' }),
        ' ',
        collection.name === 'default'
          ? null
          : button(
              t('delete'),
              () => {
                if (!confirm(t('confirmDelete', { name: collection.name }))) return;
                api('DELETE', `/v1/collections/${encodeURIComponent(collection.name)}`)
                  .then(() => context.collectionsChanged())
                  .catch(fail);
              },
              { className: 'danger' },
            ),
      ),
    ),
  );
  const name = input({ pattern: '[a-z0-9][a-z0-9_-]{0,63}', testid: 'collection-name' });
  const languages = select(
    [
      ['', t('collections.both')],
      ['zh', '中文'],
      ['en', 'English'],
    ],
    '',
  );
  const chunkTokens = input({ type: 'number', min: '50', max: '2000', placeholder: '50–2000', testid: 'collection-chunk-tokens' });
  const create = button(
    t('collections.create'),
    () => {
      const settings = { ...(languages.value ? { languages: [languages.value] } : {}), ...(chunkTokens.value ? { chunkTokens: Number(chunkTokens.value) } : {}) };
      api('POST', '/v1/collections', { name: name.value.trim(), ...(Object.keys(settings).length > 0 ? { settings } : {}) })
        .then(() => context.collectionsChanged())
        .catch(fail);
    },
    { className: 'primary', testid: 'collection-create' },
  );
  append(
    main,
    h('h1', {}, t('page.collections')),
    h(
      'section',
      { className: 'card' },
      h('h2', {}, t('collections.create')),
      h('div', { className: 'row' }, field(t('collections.newName'), name), field(t('collections.languages'), languages), field(t('collections.chunkTokens'), chunkTokens), create),
    ),
    h(
      'section',
      { className: 'card' },
      table(
        'collections-table',
        [
          t('collections.name'),
          t('collections.documents'),
          t('collections.chunks'),
          t('collections.embedder'),
          t('collections.languages'),
          t('collections.settings'),
          t('collections.created'),
          t('documents.actions'),
        ],
        rows,
      ),
    ),
  );
}

// ---- API keys ----------------------------------------------------------------------------------------------------

async function keysView(main: HTMLElement): Promise<void> {
  const listArea = h('div');
  const load = async () => {
    const { keys } = await api<{ keys: KeyView[] }>('GET', '/v1/keys');
    const rows = keys.map((key) =>
      h(
        'tr',
        { testid: 'key-row', attributes: { 'data-key-id': key.id } },
        h('td', {}, h('code', {}, key.id)),
        h('td', {}, badge(key.scope, key.scope)),
        h('td', {}, key.label ?? ''),
        h('td', {}, [key.collection, key.origins?.join(' '), key.groups?.join(', '), key.rateLimitPerMinute ? `${key.rateLimitPerMinute}/min` : ''].filter(Boolean).join(' · ')),
        h('td', {}, formatTime(key.createdAt)),
        h(
          'td',
          { className: 'actions' },
          button(
            t('keys.revoke'),
            () => {
              if (!confirm(t('keys.confirmRevoke', { id: key.id }))) return;
              api('DELETE', `/v1/keys/${key.id}`)
                .then(() => {
                  notify(t('keys.revoked', { id: key.id }));
                  return load();
                })
                .catch(fail);
            },
            { className: 'danger', testid: 'key-revoke' },
          ),
        ),
      ),
    );
    listArea.replaceChildren(table('keys-table', [t('keys.id'), t('keys.scope'), t('keys.label'), '', t('keys.created'), t('documents.actions')], rows));
  };
  const scope = select(
    (['query', 'widget', 'admin'] as const).map((name) => [name, t(`scope.${name}`)] as const),
    'query',
    { testid: 'key-scope' },
  );
  const label = input({ testid: 'key-label' });
  const collection = input();
  const origins = input({ value: location.origin, testid: 'key-origins' });
  const groups = input();
  const rateLimit = input({ type: 'number', min: '1' });
  const created = h('div', { attributes: { role: 'status' } });
  const create = button(
    t('keys.create'),
    () => {
      const body = {
        scope: scope.value,
        ...(label.value.trim() ? { label: label.value.trim() } : {}),
        ...(collection.value.trim() ? { collection: collection.value.trim() } : {}),
        ...(scope.value === 'widget' ? { origins: listOf(origins.value, /[\s,]+/) } : {}),
        ...(scope.value === 'query' && listOf(groups.value).length ? { groups: listOf(groups.value) } : {}),
        ...(rateLimit.value ? { rateLimitPerMinute: Number(rateLimit.value) } : {}),
      };
      api<{ key: string; record: KeyView }>('POST', '/v1/keys', body)
        .then(({ key }) => {
          const copy = button(t('copy'), () => void copyText(key, copy));
          created.replaceChildren(h('div', { className: 'notice ok' }, t('keys.secretOnce')), h('code', { className: 'secret', testid: 'key-secret' }, key), copy);
          return load();
        })
        .catch(fail);
    },
    { className: 'primary', testid: 'key-create' },
  );
  append(
    main,
    h('h1', {}, t('page.keys')),
    h(
      'section',
      { className: 'card' },
      h('h2', {}, t('keys.create')),
      h('div', { className: 'row' }, field(t('keys.scope'), scope), field(t('keys.label'), label), field(t('keys.collection'), collection), field(t('keys.rateLimit'), rateLimit)),
      h('div', { className: 'row' }, field(t('keys.origins'), origins), field(t('keys.groups'), groups)),
      h('div', { className: 'row' }, create),
      created,
    ),
    h('section', { className: 'card' }, listArea),
  );
  await load();
}

// ---- Widget ------------------------------------------------------------------------------------------------------

async function widgetView(main: HTMLElement, context: Context): Promise<void> {
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

// ---- Conversations -----------------------------------------------------------------------------------------------

function sourcesList(sources: SourceView[] | undefined): HTMLElement | string {
  if (!sources || sources.length === 0) return '';
  return h('ul', {}, ...sources.map((source) => h('li', {}, source.title, source.page !== undefined ? ` · p. ${source.page}` : '')));
}

function promote(context: Context, conversation: ConversationView): void {
  const answer = h('textarea', { value: conversation.answer, rows: 6, testid: 'curated-answer' });
  const status = h('div');
  const collection = conversation.collection && !conversation.collection.includes(',') ? conversation.collection : context.collection;
  const dialog = openDialog(
    t('curated.promoteTitle'),
    h('p', { className: 'muted' }, t('curated.promoteHelp')),
    h('p', {}, h('strong', {}, conversation.question)),
    field(t('curated.answer'), answer, true),
    sourcesList(conversation.sources),
    status,
    h(
      'div',
      { className: 'row' },
      button(
        t('save'),
        () => {
          api('POST', `/v1/collections/${encodeURIComponent(collection)}/curated-answers`, { fromAnswerId: conversation.id, answer: answer.value })
            .then(() => {
              notify(t('curated.saved'));
              dialog.close();
            })
            .catch((error: Error) => status.replaceChildren(h('div', { className: 'notice error' }, error.message)));
        },
        { className: 'primary', testid: 'curated-save' },
      ),
    ),
  );
}

async function conversationsView(main: HTMLElement, context: Context): Promise<void> {
  const listArea = h('div');
  const outcome = select(
    [
      ['', t('any')],
      ['true', t('conversations.refusedOnly')],
      ['false', t('conversations.answeredOnly')],
    ],
    '',
    { testid: 'conversations-outcome' },
  );
  const low = h('input', { type: 'checkbox' });
  const rating = select(
    [
      ['', t('any')],
      ['down', t('rating.down')],
      ['up', t('rating.up')],
    ],
    '',
    { testid: 'conversations-rating' },
  );
  const since = input({ type: 'date' });
  const until = input({ type: 'date' });
  const onlyThis = h('input', { type: 'checkbox', checked: false, testid: 'conversations-this-collection' });
  // Low confidence: what the knowledge-gap report counts as such, just above the refusal threshold.
  const lowConfidence = Math.min(1, context.session.answerThreshold + 0.15);
  const list = pagedList(listArea, async (offset) => {
    const listed = await api<{ conversations: ConversationView[]; total: number }>(
      'GET',
      `/v1/conversations${query({
        limit: PAGE_SIZE,
        offset,
        refused: outcome.value,
        rating: rating.value,
        confidenceBelow: low.checked ? lowConfidence : undefined,
        since: since.value ? new Date(`${since.value}T00:00:00`).toISOString() : undefined,
        until: until.value ? new Date(`${until.value}T23:59:59`).toISOString() : undefined,
        collection: onlyThis.checked ? context.collection : undefined,
      })}`,
    );
    const rows = listed.conversations.map((conversation) =>
      h(
        'tr',
        { testid: 'conversation-row' },
        h('td', {}, formatTime(conversation.createdAt), conversation.user ? h('span', { className: 'sub' }, conversation.user) : null),
        h('td', {}, conversation.question, conversation.collection ? h('span', { className: 'sub' }, conversation.collection) : null),
        h('td', {}, h('details', {}, h('summary', {}, conversation.answer.slice(0, 80) + (conversation.answer.length > 80 ? '…' : '')), h('div', { className: 'answer' }, conversation.answer))),
        h('td', {}, sourcesList(conversation.sources)),
        h(
          'td',
          {},
          conversation.answerable ? badge(t('conversations.answered'), 'answered') : badge(t('conversations.refused'), 'refused'),
          conversation.confidence !== undefined ? h('span', { className: 'sub' }, conversation.confidence.toFixed(2)) : null,
        ),
        h('td', {}, conversation.rating ? badge(t(`rating.${conversation.rating}`), conversation.rating) : '', conversation.comment ? h('span', { className: 'sub' }, conversation.comment) : null),
        h(
          'td',
          { className: 'actions' },
          button(t('conversations.promote'), () => promote(context, conversation), { testid: 'conversation-promote' }),
        ),
      ),
    );
    return {
      content: [
        table(
          'conversations-table',
          [t('conversations.time'), t('conversations.question'), t('conversations.answer'), t('conversations.sources'), t('conversations.outcome'), t('conversations.rating'), t('documents.actions')],
          rows,
        ),
      ],
      count: listed.conversations.length,
      total: listed.total,
    };
  });
  for (const control of [outcome, low, rating, since, until, onlyThis]) control.addEventListener('change', list.reload);
  const days = context.session.logRetentionDays;
  append(
    main,
    h('h1', {}, t('page.conversations')),
    h('p', { className: 'muted', testid: 'retention' }, days === 0 ? t('conversations.retentionForever') : t('conversations.retention', { days })),
    h(
      'section',
      { className: 'card' },
      h(
        'div',
        { className: 'row' },
        field(t('conversations.outcome'), outcome),
        field(t('conversations.rating'), rating),
        field(t('conversations.since'), since),
        field(t('conversations.until'), until),
        h('label', { className: 'check' }, low, t('conversations.lowConfidence')),
        h('label', { className: 'check' }, onlyThis, `${t('collectionLabel')}: ${context.collection}`),
      ),
      listArea,
    ),
  );
  await list.show();
}

// ---- Knowledge gaps ----------------------------------------------------------------------------------------------

async function gapsView(main: HTMLElement, context: Context): Promise<void> {
  const listArea = h('div');
  // The last 30 days by default: a gap the team closed long ago should not head the list.
  const since = input({ type: 'date', value: new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10), testid: 'gaps-since' });
  const load = async () => {
    const { gaps } = await api<{
      gaps: {
        question: string;
        count: number;
        refused: number;
        lowConfidence: number;
        lastAskedAt: string;
        examples: { question: string; createdAt: string; confidence?: number; refused: boolean }[];
      }[];
    }>('GET', `/v1/knowledge-gaps${query({ collection: context.collection, limit: 50, since: since.value ? new Date(`${since.value}T00:00:00`).toISOString() : undefined })}`);
    const rows = gaps.map((gap) =>
      h(
        'tr',
        { testid: 'gap-row', className: 'gap' },
        h('td', {}, h('strong', {}, gap.question)),
        h('td', {}, gap.count),
        h('td', {}, gap.refused),
        h('td', {}, gap.lowConfidence),
        h('td', {}, formatTime(gap.lastAskedAt)),
        h('td', {}, h('ul', {}, ...gap.examples.map((example) => h('li', {}, example.question, h('span', { className: 'sub' }, formatTime(example.createdAt)))))),
      ),
    );
    listArea.replaceChildren(table('gaps-table', [t('conversations.question'), t('gaps.count'), t('gaps.refused'), t('gaps.low'), t('gaps.last'), t('gaps.examples')], rows));
  };
  since.addEventListener('change', () => void load().catch(fail));
  append(
    main,
    h('h1', {}, `${t('page.gaps')} · ${context.collection}`),
    h('p', { className: 'muted' }, t('gaps.intro')),
    h('section', { className: 'card' }, h('div', { className: 'row' }, field(t('conversations.since'), since)), listArea),
  );
  await load();
}

// ---- Curated answers ---------------------------------------------------------------------------------------------

async function curatedView(main: HTMLElement, context: Context): Promise<void> {
  const listArea = h('div');
  const path = `${collectionPath(context)}/curated-answers`;
  const edit = (entry: CuratedView | undefined) => {
    const question = h('textarea', { value: entry?.question ?? '', rows: 2, testid: 'curated-question' });
    const answer = h('textarea', { value: entry?.answer ?? '', rows: 6, testid: 'curated-answer' });
    const status = h('div');
    const dialog = openDialog(
      entry ? t('curated.edit') : t('curated.new'),
      field(t('curated.question'), question, true),
      field(t('curated.answer'), answer, true),
      entry ? sourcesList(entry.sources) : null,
      status,
      h(
        'div',
        { className: 'row' },
        button(
          t('save'),
          () => {
            const body = { question: question.value, answer: answer.value, sources: entry?.sources ?? [] };
            (entry ? api('PUT', `${path}/${entry.id}`, body) : api('POST', path, body))
              .then(() => {
                notify(t('curated.saved'));
                dialog.close();
                return load();
              })
              .catch((error: Error) => status.replaceChildren(h('div', { className: 'notice error' }, error.message)));
          },
          { className: 'primary', testid: 'curated-save' },
        ),
      ),
    );
  };
  const load = async () => {
    const { curatedAnswers } = await api<{ curatedAnswers: CuratedView[] }>('GET', path);
    const rows = curatedAnswers.map((entry) =>
      h(
        'tr',
        { testid: 'curated-row' },
        h('td', {}, entry.question, entry.fromAnswerId ? h('span', { className: 'sub' }, t('curated.from', { id: entry.fromAnswerId.slice(0, 8) })) : null),
        h('td', {}, h('div', { className: 'answer' }, entry.answer)),
        h('td', {}, sourcesList(entry.sources)),
        h('td', {}, formatTime(entry.updatedAt)),
        h(
          'td',
          { className: 'actions' },
          button(t('curated.edit'), () => edit(entry), { testid: 'curated-edit' }),
          ' ',
          button(
            t('delete'),
            () => {
              if (!confirm(t('confirmDelete', { name: entry.question }))) return;
              api('DELETE', `${path}/${entry.id}`).then(load).catch(fail);
            },
            { className: 'danger', testid: 'curated-delete' },
          ),
        ),
      ),
    );
    listArea.replaceChildren(table('curated-table', [t('curated.question'), t('curated.answer'), t('curated.sources'), t('documents.updated'), t('documents.actions')], rows));
  };
  append(
    main,
    h('h1', {}, `${t('page.curated')} · ${context.collection}`),
    h('p', { className: 'muted' }, t('curated.intro')),
    h(
      'section',
      { className: 'card' },
      h(
        'div',
        { className: 'row' },
        button(t('curated.new'), () => edit(undefined), { className: 'primary', testid: 'curated-new' }),
      ),
      listArea,
    ),
  );
  await load();
}

// ---- Try it ------------------------------------------------------------------------------------------------------

async function tryView(main: HTMLElement, context: Context): Promise<void> {
  const question = h('textarea', { rows: 2, placeholder: t('try.placeholder'), testid: 'try-question' });
  const answerArea = h('div', { testid: 'try-answer' });
  const resultsArea = h('div');
  const ask = button(
    t('try.ask'),
    () => {
      const text = question.value.trim();
      if (!text) return;
      ask.disabled = true;
      answerArea.replaceChildren(t('loading'));
      resultsArea.replaceChildren();
      const body = { question: text, collection: context.collection };
      const searched = api<{ results: { title: string; page?: number; headings?: string[]; text: string; score: number }[] }>('POST', '/v1/search', {
        query: text,
        collection: context.collection,
        topK: 8,
        // Retrieval as /v1/ask runs it (English queries expanded from the first results), so the chunks shown are
        // the ones the answer was drawn from.
        expand: true,
      });
      const asked = api<{
        answer: string;
        kind: 'answer' | 'smalltalk' | 'not_found';
        confidence: number;
        answeredBy: string;
        citations: { n: number; title: string; page?: number; headings?: string[] }[];
      }>('POST', '/v1/ask', body);
      Promise.all([asked, searched])
        .then(([answer, search]) => {
          answerArea.replaceChildren(
            h('div', { className: 'answer' }, answer.answer),
            h(
              'p',
              { className: 'muted' },
              badge(t(`kind.${answer.kind}`), answer.kind === 'not_found' ? 'refused' : answer.kind === 'answer' ? 'answered' : ''),
              ' ',
              t('try.confidence', { value: answer.confidence.toFixed(2), by: answer.answeredBy }),
            ),
            h('ol', {}, ...answer.citations.map((citation) => h('li', {}, locationOf(citation, true)))),
          );
          resultsArea.replaceChildren(
            table(
              'try-results',
              [t('try.score'), t('documents.title'), t('conversations.answer')],
              search.results.map((result) =>
                h(
                  'tr',
                  {},
                  h('td', {}, result.score.toFixed(3)),
                  h('td', {}, result.title, h('span', { className: 'sub' }, locationOf(result, false))),
                  h('td', {}, h('div', { className: 'chunk' }, h('div', { className: 'text' }, result.text))),
                ),
              ),
            ),
          );
        })
        .catch((error: Error) => answerArea.replaceChildren(h('div', { className: 'notice error' }, error.message)))
        .finally(() => (ask.disabled = false));
    },
    { className: 'primary', testid: 'try-ask' },
  );
  question.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      ask.click();
    }
  });
  append(
    main,
    h('h1', {}, `${t('page.try')} · ${context.collection}`),
    h('section', { className: 'card' }, field(t('try.question'), question, true), h('div', { className: 'row' }, ask)),
    h('section', { className: 'card' }, h('h2', {}, t('try.answer')), answerArea),
    h('section', { className: 'card' }, h('h2', {}, t('try.retrieved')), resultsArea),
  );
}

export const views: Record<ConsolePage, (main: HTMLElement, context: Context) => Promise<void>> = {
  documents: documentsView,
  jobs: jobsView,
  collections: collectionsView,
  keys: (main) => keysView(main),
  widget: widgetView,
  conversations: conversationsView,
  gaps: gapsView,
  curated: curatedView,
  try: tryView,
};
