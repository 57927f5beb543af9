// Where routes get their knowledge bases: the default collection (the server starts listening before its index is
// loaded, and routes answer 503 with the reason while it loads or if it failed) and, through the registry, the
// other collections a request names.
import { KbError, describeError } from '../errors.ts';
import type { KnowledgeBase } from '../knowledge-base.ts';
import { DEFAULT_COLLECTION, type CollectionRegistry } from '../collections/registry.ts';

export class KnowledgeBaseHolder {
  private value: KnowledgeBase | undefined;
  private failure: unknown;
  readonly ready: Promise<void>;
  registry: CollectionRegistry | undefined;

  constructor(source: KnowledgeBase | Promise<KnowledgeBase>) {
    this.ready = Promise.resolve(source).then(
      (knowledgeBase) => {
        this.value = knowledgeBase;
      },
      (error: unknown) => {
        this.failure = error;
      },
    );
  }

  get state(): 'ready' | 'loading' | 'failed' {
    return this.value ? 'ready' : this.failure !== undefined ? 'failed' : 'loading';
  }

  get failureMessage(): string | undefined {
    return this.failure === undefined ? undefined : describeError(this.failure);
  }

  peek(): KnowledgeBase | undefined {
    return this.value;
  }

  get(): KnowledgeBase {
    if (this.value) return this.value;
    throw new KbError('KB_ERR_NOT_READY', { details: this.failureMessage ?? 'the index is still loading, retry in a moment' });
  }

  /**
   * The knowledge bases a request names: `collections` (several, merged) or `collection` (one, "default" when
   * neither is given). The first is the one that answers; the others are searched with it.
   */
  async forRequest(collection: string | undefined, collections: readonly string[] | undefined): Promise<{ primary: KnowledgeBase; others: KnowledgeBase[]; names: string[] }> {
    if (collection !== undefined && collections !== undefined) throw new KbError('KB_ERR_VALIDATION', { details: 'give either collection or collections, not both' });
    const names = [...new Set(collections ?? [collection ?? DEFAULT_COLLECTION])];
    const knowledgeBases = await Promise.all(names.map((name) => this.forCollection(name)));
    return { primary: knowledgeBases[0]!, others: knowledgeBases.slice(1), names };
  }

  /** The knowledge base of a collection ("default" when not given). */
  async forCollection(name: string | undefined): Promise<KnowledgeBase> {
    if (name === undefined || name === DEFAULT_COLLECTION) return this.get();
    if (!this.registry) throw new KbError('KB_ERR_UNKNOWN_COLLECTION', { collection: name });
    return this.registry.get(name);
  }
}
