// Documents: upload with metadata, the list searched and filtered by the store, chunks, download, reindex, delete.
import { api, query } from '../api.ts';
import { append, button, clear, field, formatTime, h, input, listOf, notify, openDialog, select } from '../dom.ts';
import { t } from '../i18n.ts';
import { DOCUMENT_FORMATS, formatByExtension } from '../../ingest/formats.ts';
import { PAGE_SIZE, collectionPath, fail, table, pagedList, watchJob, type Context, type JobView } from './shared.ts';

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

const ACCEPTED = Object.keys(formatByExtension).join(',');

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

export async function documentsView(main: HTMLElement, context: Context): Promise<void> {
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
