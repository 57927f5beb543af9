// Conversations: the answer log, filtered, and a conversation promoted to a curated answer.
import { api, query } from '../api.ts';
import { append, badge, button, field, formatTime, h, input, notify, openDialog, select } from '../dom.ts';
import { t } from '../i18n.ts';
import { PAGE_SIZE, table, pagedList, sourcesList, type Context, type SourceView } from './shared.ts';

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

export async function conversationsView(main: HTMLElement, context: Context): Promise<void> {
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
