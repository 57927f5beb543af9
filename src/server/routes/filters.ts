// API filter names → retrieval filter names.
import type { z } from 'zod';
import type { SearchFilters } from '../../retrieve/retriever.ts';
import type { filtersSchema } from '../schemas.ts';

/** API filters and the caller's reader groups → retrieval filters. */
export function toRetrievalFilters(filters: z.infer<typeof filtersSchema> | undefined, readerGroups?: string[]): SearchFilters | undefined {
  const groups = readerGroups ? { readerGroups } : {};
  if (!filters) return readerGroups ? groups : undefined;
  return {
    ...groups,
    ...(filters.tags ? { tags: filters.tags } : {}),
    ...(filters.department ? { department: filters.department } : {}),
    ...(filters.documentIds ? { documentIds: filters.documentIds } : {}),
    ...(filters.source ? { sourcePrefix: filters.source } : {}),
    ...(filters.language ? { language: filters.language } : {}),
  };
}
