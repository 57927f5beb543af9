// The knowledge base as one object: the store, embedder, retriever and answerer wired from the configuration.
// The HTTP server, the CLI, the evaluation and the benchmarks all go through it.
import { randomUUID } from 'node:crypto';
import type { Config } from './config.ts';
import type { KnowledgeBaseTarget, QueryThreads } from './server/query-threads.ts';
import { ConcurrencyLimit } from './limits.ts';
import { mergeRetrievals } from './collections/merge.ts';
import { condenseQuestion, readFollowUp, refersBack } from './answer/condense.ts';
import { smallTalkKind, smallTalkReply, withoutLeadingPoliteness, type SmallTalkKind } from './answer/small-talk.ts';
import { detectLanguage } from './text/language.ts';
import { Answerer } from './answer/answerer.ts';
import { OpenAiCompatibleModel } from './answer/openai-compatible.ts';
import type { AnswerPart, AnswerResult, ChatMessage, LanguageModel } from './answer/types.ts';
import { createEmbedder, denseWeightFor, type Logger } from './embed/index.ts';
import type { Embedder } from './embed/types.ts';
import { ingestPaths, ingestTexts, type IngestOptions, type IngestSummary, type TextDocument } from './ingest/pipeline.ts';
import { EVIDENCE_CHUNKS, Retriever, type RetrievalResult, type RetrieveOptions, type SearchFilters } from './retrieve/retriever.ts';
import { openStorage } from './store/open-storage.ts';
import type { Storage } from './store/types.ts';
import { CrossEncoderReranker, isRerankerInstalled, type Reranker } from './retrieve/reranker.ts';
import type { ReadScope } from './retrieve/read-scope.ts';
import { setCjkTokenizer } from './text/tokenize.ts';

/**
 * How much more confidence (0..1 coverage of the query by the best evidence sentence) a query merged with the previous
 * question needs over the question alone to be used (0..0.5): a follow-up must find clearly better evidence.
 */
const FOLLOW_UP_MARGIN = 0.15;

export interface AskInput {
  question: string;
  /** What the caller may read (from its key or session; READ_EVERYTHING for local tools). */
  scope: ReadScope;
  history?: ChatMessage[];
  topK?: number;
  filters?: SearchFilters;
  signal?: AbortSignal;
  /** Other knowledge bases searched together with this one (asking several collections at once). */
  alsoSearch?: readonly KnowledgeBase[];
}

/**
 * The query threads of this process (server/query-threads.ts), when the server runs queries in worker threads: every
 * knowledge base of the main thread then hands its searches and asks to them. Unset in the threads themselves.
 */
let queryThreads: QueryThreads | undefined;

export function useQueryThreads(threads: QueryThreads | undefined): void {
  queryThreads = threads;
}

/** Closes the query threads' views of a knowledge base whose folder is going away (a deleted collection). */
export async function forgetInQueryThreads(dataDir: string): Promise<void> {
  await queryThreads?.forget(dataDir);
}

export interface AskTimings {
  retrieveMs: number;
  generateMs: number;
  totalMs: number;
}

export type AskPart = { type: 'sources'; retrieval: RetrievalResult } | AnswerPart;

export class KnowledgeBase {
  readonly retriever: Retriever;
  readonly answerer: Answerer;
  /** LLM calls (condensing and answering) at once, with a bounded queue. */
  readonly modelLimit: ConcurrencyLimit;
  /** Filters applied unless a request sets them itself (a collection's languages setting). */
  defaultFilters: SearchFilters = {};
  /** This opening of the knowledge base (query threads open their own view of each instance). */
  readonly instance = randomUUID();

  private constructor(
    readonly config: Readonly<Config>,
    readonly storage: Storage,
    readonly embedder: Embedder,
    readonly model: LanguageModel | undefined,
    private readonly logger: Logger,
    readonly reranker: Reranker | undefined,
  ) {
    this.retriever = new Retriever(storage, embedder, {
      bm25: { k1: config.retrieval.bm25K1, b: config.retrieval.bm25B },
      rrfK: config.retrieval.rrfK,
      candidates: config.retrieval.candidates,
      answerThreshold: config.retrieval.answerThreshold,
      keywordWeight: config.retrieval.keywordWeight,
      denseWeight: denseWeightFor(config, embedder),
      evidenceChunks: EVIDENCE_CHUNKS,
      pairWeight: config.retrieval.pairWeight,
      mmrLambda: config.mmrLambda,
      ...(reranker ? { rerank: { reranker, candidates: config.reranker.candidates } } : {}),
      ...(config.retrieval.feedback ? { feedback: config.retrieval.feedback } : {}),
    });
    this.answerer = new Answerer({ model, maxTokens: config.llm.maxTokens });
    this.modelLimit = new ConcurrencyLimit(config.llm.concurrency, config.llm.queue, 'questions to the language model');
  }

  static async open(config: Readonly<Config>, logger: Logger, options: { model?: LanguageModel; embedder?: Embedder; readOnly?: boolean } = {}): Promise<KnowledgeBase> {
    await setCjkTokenizer(config.cjkTokenizer);
    const embedder = options.embedder ?? (await createEmbedder(config, logger));
    // Vectors that ranking does not search are neither indexed nor, when the embedder computes them again at once,
    // stored (at 100k chunks: 2 KB and an HNSW insertion each).
    const storage = await openStorage(config, embedder, config.dataDir, { readOnly: options.readOnly === true });
    const model =
      options.model ??
      (config.llm.baseUrl
        ? new OpenAiCompatibleModel({ baseUrl: config.llm.baseUrl, model: config.llm.model, timeoutMs: config.llm.timeoutMs, ...(config.llm.apiKey ? { apiKey: config.llm.apiKey } : {}) })
        : undefined);
    let reranker: Reranker | undefined;
    if (config.reranker.model && isRerankerInstalled(config.modelsDir, config.reranker.model)) {
      reranker = await CrossEncoderReranker.load({ modelsDir: config.modelsDir, modelId: config.reranker.model, allowRemoteModels: config.allowRemoteModels });
      logger.info(`reranking: cross-encoder ${config.reranker.model} over the top ${config.reranker.candidates} candidates`);
    }
    logger.info(model ? `answers: LLM ${config.llm.model} at ${config.llm.baseUrl}` : 'answers: built-in extractive answerer (set KB_LLM_BASE_URL for generated answers)');
    return new KnowledgeBase(config, storage, embedder, model, logger, reranker);
  }

  /**
   * Indexes files and folders. `threads` (worker threads that parse and tokenize) defaults to KB_INGEST_THREADS, else
   * 0; a server passes 1 so that its event loop keeps answering queries during a job.
   */
  ingest(paths: readonly string[], options: Pick<IngestOptions, 'onProgress' | 'baseDir' | 'force' | 'documentDefaults' | 'documentOverrides' | 'threads'> = {}): Promise<IngestSummary> {
    return ingestPaths(paths, {
      storage: this.storage,
      embedder: this.embedder,
      chunking: this.config.chunking,
      ocr: this.config.ocr,
      ...options,
      threads: this.config.ingestThreads ?? options.threads ?? 0,
    });
  }

  ingestDocuments(documents: readonly TextDocument[], options: Pick<IngestOptions, 'onProgress'> = {}): Promise<IngestSummary> {
    return ingestTexts(documents, { storage: this.storage, embedder: this.embedder, chunking: this.config.chunking, ...options });
  }

  /** Retrieval with this knowledge base's default filters under the request's own. */
  retrieveWithDefaults(query: string, topK: number, scope: ReadScope, filters?: SearchFilters, options: RetrieveOptions = {}): Promise<RetrievalResult> {
    return this.retriever.retrieve(query, topK, scope, { ...this.defaultFilters, ...filters }, options);
  }

  /** What a query thread needs to open this knowledge base as it is. */
  target(): KnowledgeBaseTarget {
    return { config: this.config, instance: this.instance, defaultFilters: this.defaultFilters };
  }

  /** Retrieval here, or here and in other collections with the lists merged by rank. */
  async search(query: string, topK: number, scope: ReadScope, filters?: SearchFilters, alsoSearch: readonly KnowledgeBase[] = [], options: RetrieveOptions = {}): Promise<RetrievalResult> {
    if (queryThreads)
      return queryThreads.search(
        [this, ...alsoSearch].map((knowledgeBase) => knowledgeBase.target()),
        query,
        topK,
        scope,
        filters,
        options,
      );
    if (alsoSearch.length === 0) return this.retrieveWithDefaults(query, topK, scope, filters, options);
    const retrievals = await Promise.all([this, ...alsoSearch].map((knowledgeBase) => knowledgeBase.retrieveWithDefaults(query, topK, scope, filters, options)));
    return mergeRetrievals(retrievals, topK, this.config.retrieval.answerThreshold);
  }

  /**
   * Retrieval for a question in a conversation. Without an LLM, the question alone is retrieved first; a query merged
   * with the previous question (condenseDeterministic: only for short or referring-back questions) replaces it only
   * when it finds clearly better evidence, so a new topic after any question is answered as a new question. (The
   * merged query used to win whenever it was formed: "How do I fix VPN error 809?" after a fault-code question got
   * the fault-code row.) With an LLM, its rewrite takes the place of the merged query under the same rule.
   */
  private async retrieveForConversation(question: string, history: readonly ChatMessage[], topK: number, input: AskInput): Promise<RetrievalResult> {
    const search = (query: string) => this.search(query, topK, input.scope, input.filters, input.alsoSearch);
    if (history.length === 0) return search(question);
    const followUp = readFollowUp(question, history);
    const standalone = await search(question);
    // Only a question that points back ("and …?", 「那…呢」) or swaps an identifier ("And E-207?") depends on the
    // conversation: a short new question ("What is the dress code?") is a new topic, answered or refused on its own.
    const identifierSwap = followUp.kind === 'identifier-swap';
    const dependsOnHistory = followUp.kind !== 'standalone' && (identifierSwap || refersBack(question));
    if (this.model) {
      // The model's rewrite under the same rule: it replaces the question when the question depends on the
      // conversation and the rewrite finds an answer, or when it finds clearly better evidence. A model that glues the
      // previous topic onto a new question (as the deterministic condenser once did) cannot make the widget answer
      // the previous question.
      const rewritten = await condenseQuestion(question, history, this.model, (message) => this.logger.warn(message));
      if (rewritten.trim() === question.trim()) return standalone;
      const merged = await search(rewritten);
      if (dependsOnHistory) return merged.answerable || !standalone.answerable ? merged : standalone;
      return (merged.answerable && !standalone.answerable) || merged.confidence >= standalone.confidence + FOLLOW_UP_MARGIN ? merged : standalone;
    }
    if (!dependsOnHistory) return standalone;
    const merged = await search(followUp.query);
    // The previous question with the identifier swapped is the likelier reading: kept whenever it finds an answer
    // (confidences of a two-word and a ten-word query do not compare). A merged query is kept only when it finds
    // clearly better evidence.
    if (identifierSwap) return merged.answerable || !standalone.answerable ? merged : standalone;
    const clearlyBetter = (merged.answerable && !standalone.answerable) || merged.confidence >= standalone.confidence + FOLLOW_UP_MARGIN;
    return clearlyBetter ? merged : standalone;
  }

  /** The whole ask flow as a stream of parts: sources first, then answer deltas, then the final result. */
  async *askStream(input: AskInput): AsyncGenerator<AskPart & { timings?: AskTimings }> {
    const release = this.model ? await this.modelLimit.acquire() : undefined;
    try {
      if (queryThreads) {
        const { signal, alsoSearch, ...rest } = input;
        yield* queryThreads.askStream(
          [this, ...(alsoSearch ?? [])].map((knowledgeBase) => knowledgeBase.target()),
          rest,
          signal,
        );
      } else yield* this.askStreamUnlimited(input);
    } finally {
      release?.();
    }
  }

  /** The ask flow without the limit on LLM calls (askStream applies it; a query thread runs this under it). */
  async *askStreamUnlimited(input: AskInput): AsyncGenerator<AskPart & { timings?: AskTimings }> {
    const started = performance.now();
    const history = input.history ?? [];
    const smallTalk = smallTalkKind(input.question);
    if (smallTalk) {
      yield* replyToSmallTalk(smallTalk, input.question, history, started);
      return;
    }
    const topK = input.topK ?? this.config.retrieval.topK;
    const question = withoutLeadingPoliteness(input.question);
    const retrieval = await this.retrieveForConversation(question, history, topK, input);
    const retrieveMs = performance.now() - started;
    yield { type: 'sources', retrieval };
    const generateStarted = performance.now();
    for await (const part of this.answerer.stream(question, retrieval, history, input.signal)) {
      if (part.type === 'done') {
        const now = performance.now();
        yield { ...part, timings: { retrieveMs: round(retrieveMs), generateMs: round(now - generateStarted), totalMs: round(now - started) } };
      } else yield part;
    }
  }

  async ask(input: AskInput): Promise<AnswerResult & { timings: AskTimings; retrieval: RetrievalResult }> {
    let retrieval: RetrievalResult | undefined;
    for await (const part of this.askStream(input)) {
      if (part.type === 'sources') retrieval = part.retrieval;
      if (part.type === 'done') return { ...part.result, timings: part.timings!, retrieval: retrieval! };
    }
    throw new Error('the answer stream ended without a result');
  }

  close(): Promise<void> {
    return this.storage.close();
  }
}

/** A greeting, thanks or test message: a short reply in the user's language, nothing retrieved, nothing cited. */
function* replyToSmallTalk(kind: SmallTalkKind, question: string, history: readonly ChatMessage[], started: number): Generator<AskPart & { timings?: AskTimings }> {
  // A bare emoji has no language of its own: the conversation's.
  const hasLetters = /[\p{L}]/u.test(question);
  const lastQuestion = [...history].reverse().find((message) => message.role === 'user')?.content;
  const language = detectLanguage(hasLetters || !lastQuestion ? question : lastQuestion);
  const answer = smallTalkReply(kind, language, question);
  const retrieval: RetrievalResult = { query: question, chunks: [], confidence: 0, answerable: false, weights: [], evidence: [], timings: { keywordMs: 0, denseMs: 0, rerankMs: 0, totalMs: 0 } };
  yield { type: 'sources', retrieval };
  yield { type: 'delta', text: answer };
  const totalMs = round(performance.now() - started);
  yield {
    type: 'done',
    result: { answer, answerable: false, kind: 'smalltalk', confidence: 0, citations: [], language, answeredBy: 'none' },
    timings: { retrieveMs: 0, generateMs: totalMs, totalMs },
  };
}

function round(milliseconds: number): number {
  return Math.round(milliseconds * 10) / 10;
}
