// Try it: a question asked as a client would, with the retrieved chunks and their scores.
import { api } from '../api.ts';
import { append, badge, button, field, h } from '../dom.ts';
import { t } from '../i18n.ts';
import { table, type Context } from './shared.ts';

/** "Title · Chapter › Section · page 2": a location without the title repeated as the first heading. */
function locationOf(entry: { title?: string; headings?: string[]; page?: number }, withTitle: boolean): string {
  const headings = entry.headings?.[0] === entry.title ? entry.headings?.slice(1) : entry.headings;
  return [withTitle ? entry.title : '', headings?.join(' › '), entry.page !== undefined ? t('chunks.page', { page: entry.page }) : ''].filter(Boolean).join(' · ');
}

export async function tryView(main: HTMLElement, context: Context): Promise<void> {
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
