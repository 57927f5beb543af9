// What one caller may read, derived once from the request's principal and required by every retrieval call: a read
// path cannot forget the caller's reader groups, because it cannot call retrieval without a scope. (A key without
// groups once read group-restricted documents through /v1/chat/completions, which applied groups by hand.)

export interface ReadScope {
  /** The reader's groups: documents open to everyone plus those of these groups; 'all' reads every document. */
  readonly readerGroups: readonly string[] | 'all';
}

/** For callers that hold the data directory itself (CLI, evaluation, benchmarks) and admin keys: every document. */
export const READ_EVERYTHING: ReadScope = Object.freeze({ readerGroups: 'all' });

/** Whether the scope reads a document with these reader groups (absent or empty: open to everyone). */
export function mayRead(scope: ReadScope, documentGroups: readonly string[] | undefined): boolean {
  if (scope.readerGroups === 'all' || !documentGroups || documentGroups.length === 0) return true;
  const groups = scope.readerGroups;
  return documentGroups.some((group) => groups.includes(group));
}

/** Documents open to everyone plus those of the given groups. */
export function readScopeForGroups(groups: readonly string[]): ReadScope {
  return Object.freeze({ readerGroups: Object.freeze([...groups]) });
}
