// Knowledge gaps: refused and low-confidence questions grouped by what they ask.
import { api, query } from '../api.ts';
import { append, field, formatTime, h, input } from '../dom.ts';
import { t } from '../i18n.ts';
import { fail, table, type Context } from './shared.ts';

export async function gapsView(main: HTMLElement, context: Context): Promise<void> {
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
