// The admin console's pages: shared by the server (which serves a page only to a signed-in browser) and the browser
// script (which shows them).

export const CONSOLE_PAGES = ['documents', 'jobs', 'collections', 'keys', 'widget', 'conversations', 'gaps', 'curated', 'try'] as const;
export type ConsolePage = (typeof CONSOLE_PAGES)[number];
