// API filter names → retrieval filter names.
import type { z } from 'zod';
import type { SearchFilters } from '../../retrieve/retriever.ts';
import type { filtersSchema } from '../schemas.ts';

export function toRetrievalFilters(filters: z.infer<typeof filtersSchema> | undefined): SearchFilters | undefined {
  if (!filters) return undefined;
  return {
    ...(filters.documentIds ? { documentIds: filters.documentIds } : {}),
    ...(filters.source ? { sourcePrefix: filters.source } : {}),
    ...(filters.language ? { language: filters.language } : {}),
  };
}
