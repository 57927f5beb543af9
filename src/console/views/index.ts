// The console's pages, each a view over the public API for the current collection, one module per page.
import type { ConsolePage } from '../pages.ts';
import { documentsView } from './documents.ts';
import { jobsView } from './jobs.ts';
import { collectionsView } from './collections.ts';
import { keysView } from './keys.ts';
import { widgetView } from './widget.ts';
import { conversationsView } from './conversations.ts';
import { gapsView } from './gaps.ts';
import { curatedView } from './curated.ts';
import { tryView } from './try.ts';
import type { Context } from './shared.ts';

export type { Context };

export const views: Record<ConsolePage, (main: HTMLElement, context: Context) => Promise<void>> = {
  documents: documentsView,
  jobs: jobsView,
  collections: collectionsView,
  keys: keysView,
  widget: widgetView,
  conversations: conversationsView,
  gaps: gapsView,
  curated: curatedView,
  try: tryView,
};
