// API filter names → retrieval filter names.
import type { z } from 'zod';
import type { SearchFilters } from '../../retrieve/retriever.ts';
import type { filtersSchema } from '../schemas.ts';

/**
 * API filters → retrieval filters; a collection restricted to one language (its `languages` setting) searches only
 * that language unless the request says otherwise.
 */
export function toRetrievalFilters(
  filters: z.infer<typeof filtersSchema> | undefined,
  collectionLanguages?: readonly ('zh' | 'en')[],
  readerGroups?: string[],
): SearchFilters | undefined {
  const defaultLanguage = collectionLanguages?.length === 1 ? collectionLanguages[0] : undefined;
  const groups = readerGroups ? { readerGroups } : {};
  if (!filters) return defaultLanguage || readerGroups ? { ...(defaultLanguage ? { language: defaultLanguage } : {}), ...groups } : undefined;
  if (!filters.language && defaultLanguage) filters = { ...filters, language: defaultLanguage };
  return {
    ...groups,
    ...(filters.tags ? { tags: filters.tags } : {}),
    ...(filters.department ? { department: filters.department } : {}),
    ...(filters.documentIds ? { documentIds: filters.documentIds } : {}),
    ...(filters.source ? { sourcePrefix: filters.source } : {}),
    ...(filters.language ? { language: filters.language } : {}),
  };
}
