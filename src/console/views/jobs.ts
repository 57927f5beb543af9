// Jobs: every job with its live progress and each file's outcome.
import { api, query } from '../api.ts';
import { append, badge, field, formatTime, h, select } from '../dom.ts';
import { t, type MessageKey } from '../i18n.ts';
import { PAGE_SIZE, POLL_MILLISECONDS, fail, table, pagedList, stateBadge, jobProgress, type Context, type JobView } from './shared.ts';

export async function jobsView(main: HTMLElement, context: Context): Promise<void> {
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
