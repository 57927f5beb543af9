// API filter names → retrieval filter names.
import type { z } from 'zod';
import type { SearchFilters } from '../../retrieve/retriever.ts';
import type { filtersSchema } from '../schemas.ts';

/** API filters → retrieval filters (what the caller may read is its ReadScope, not a filter). */
export function toRetrievalFilters(filters: z.infer<typeof filtersSchema> | undefined): SearchFilters | undefined {
  if (!filters) return undefined;
  return {
    ...(filters.tags ? { tags: filters.tags } : {}),
    ...(filters.department ? { department: filters.department } : {}),
    ...(filters.documentIds ? { documentIds: filters.documentIds } : {}),
    ...(filters.source ? { sourcePrefix: filters.source } : {}),
    ...(filters.language ? { language: filters.language } : {}),
  };
}
