// Curated answers of the collection: list, write, edit, delete.
import { api } from '../api.ts';
import { append, button, field, formatTime, h, notify, openDialog } from '../dom.ts';
import { t } from '../i18n.ts';
import { collectionPath, fail, table, sourcesList, type Context, type SourceView } from './shared.ts';

interface CuratedView {
  id: string;
  question: string;
  answer: string;
  sources: SourceView[];
  fromAnswerId?: string;
  updatedAt: string;
}

export async function curatedView(main: HTMLElement, context: Context): Promise<void> {
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
