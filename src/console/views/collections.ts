// Collections: create, delete, and switch the embedding model with its progress.
import { api } from '../api.ts';
import { append, button, field, formatTime, h, input, openDialog, select } from '../dom.ts';
import { t } from '../i18n.ts';
import { fail, table, stateBadge, watchJob, jobProgress, type Context } from './shared.ts';

export async function collectionsView(main: HTMLElement, context: Context): Promise<void> {
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
