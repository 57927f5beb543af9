// What the console's pages share: the page context, the API's shapes as the pages read them, and the parts of a
// page (tables, pagers, paged lists, job watching, source lists).
import { api } from '../api.ts';
import { badge, button, h, notify } from '../dom.ts';
import { t } from '../i18n.ts';

export interface Context {
  collection: string;
  session: { csrfToken: string; logRetentionDays: number; answerThreshold: number };
  /** Registers what to stop (timers) when the user leaves the page. */
  onLeave(stop: () => void): void;
  collectionsChanged(): Promise<void>;
}

export interface JobView {
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

export interface SourceView {
  documentId: string;
  title: string;
  source: string;
  page?: number;
}

export const PAGE_SIZE = 20;
export const POLL_MILLISECONDS = 2000;

export const collectionPath = (context: Context) => `/v1/collections/${encodeURIComponent(context.collection)}`;
export const fail = (error: Error) => notify(error.message, 'error');

export function table(testid: string, headings: string[], rows: HTMLTableRowElement[]): HTMLElement {
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
export function pagedList(area: HTMLElement, loadPage: (offset: number) => Promise<ListPage | undefined>): { show: () => Promise<void>; reload: () => void } {
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

export function stateBadge(state: JobView['state']): HTMLElement {
  return badge(t(`state.${state}`), state);
}

/** Polls a job until it ends; calls back with each state. Stops when the page is left. */
export function watchJob(context: Context, jobId: string, onUpdate: (job: JobView) => void): void {
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

export function jobProgress(job: JobView): HTMLElement {
  const bar = h('progress', { max: Math.max(1, job.progress.total), value: job.state === 'succeeded' ? Math.max(1, job.progress.total) : job.progress.done });
  const ocr = job.progress.ocr;
  return h('div', {}, bar, ` ${job.progress.done}/${job.progress.total}`, ocr ? h('span', { className: 'sub' }, t('jobs.ocr', { file: ocr.file, pages: ocr.pages, total: ocr.total })) : null);
}

export function sourcesList(sources: SourceView[] | undefined): HTMLElement | string {
  if (!sources || sources.length === 0) return '';
  return h('ul', {}, ...sources.map((source) => h('li', {}, source.title, source.page !== undefined ? ` · p. ${source.page}` : '')));
}
