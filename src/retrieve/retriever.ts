// Hybrid retrieval: BM25 over the keyword postings and nearest neighbours over the vectors, fused by reciprocal
// rank, then the answerability evidence for the best chunks. Chunk text is loaded only for the final top-k.
import type { Embedder } from '../embed/types.ts';
import type { ChunkRecord, ScoredChunk, SearchScope, Storage } from '../store/types.ts';
import { detectLanguage, type Language } from '../text/language.ts';
import { contentWords, queryTerms as queryTermWeights } from '../text/tokenize.ts';
import { sentenceEvidence, weighWords, type SentenceEvidence, type WordWeight } from './answerability.ts';
import type { Bm25Parameters } from './bm25.ts';
import { expandQuery, isExpansionWord, MAX_DOCUMENT_SHARE, relevanceModel, type FeedbackParameters } from './feedback.ts';
import { jaccard, maximalMarginalRelevance } from './diversity.ts';
import type { Reranker } from './reranker.ts';
import { indexableText } from '../ingest/chunker.ts';
import { maximumRrfScore, reciprocalRankFusion, type RankedList } from './fusion.ts';
import type { ReadScope } from './read-scope.ts';

export interface RetrievalParameters {
  bm25: Bm25Parameters;
  /** RRF constant, useful range 1..200. */
  rrfK: number;
  /** Candidates taken from each list before fusion, 10..1000. */
  candidates: number;
  /** Confidence below which a question is not answerable from the knowledge base, 0..1. */
  answerThreshold: number;
  /** Weights of the keyword and dense lists in fusion (0..2 each). */
  keywordWeight: number;
  denseWeight: number;
  /** How many of the top chunks are inspected for answerability (1..10). */
  evidenceChunks: number;
  /** Weight of an adjacent query word pair relative to a word, 0..1 (0: no proximity feature). */
  pairWeight: number;
  /** Cross-encoder reranking of the top fused candidates; off when undefined. */
  rerank?: { reranker: Reranker; candidates: number };
  /** MMR trade-off between relevance and novelty, 0.5..1 (1: off). */
  mmrLambda: number;
  /** RM3 pseudo-relevance feedback on the keyword list; off when undefined. */
  feedback?: FeedbackParameters;
}

/** Positions at the head of the ranking that MMR reorders (5..50). */
const MMR_WINDOW = 10;

/** Top chunks whose sentences decide answerability and feed the extractive answer (1..10). */
export const EVIDENCE_CHUNKS = 3;

export interface RetrieveOptions {
  /** RM3 query expansion for English queries (default true). */
  expand?: boolean;
}

export interface SearchFilters {
  documentIds?: string[];
  sourcePrefix?: string;
  language?: Language;
  tags?: string[];
  department?: string;
}

/** The same passage in another document (another format or copy of it), collapsed into the chunk that ranked first. */
export interface AlternativeSource {
  documentId: string;
  title: string;
  source: string;
  page?: number;
}

/**
 * Two retrieved chunks of different documents this alike (Jaccard of their index terms, 0.5..1) are one passage: a
 * manual shipped as PDF, TXT and HTML is one source with alternatives, not three citations of the same text.
 */
const SAME_PASSAGE_SIMILARITY = 0.8;
/** Positions at the head of the results checked for the same passage (5..50): what answers and source cards show. */
const SAME_PASSAGE_WINDOW = 20;
/** Results fetched beyond topK (at most topK more) to stand in for collapsed ones (0..20). */
const SAME_PASSAGE_SPARES = 5;

export interface RetrievedChunk extends ChunkRecord {
  /** The same passage in other documents (formats or copies), listed instead of repeated. */
  alternatives?: AlternativeSource[];
  /** Fused score in 0..1 (1 = first in both lists). */
  score: number;
  /** The cross-encoder's score, when a reranker is installed. */
  rerankScore?: number;
  keywordRank: number | undefined;
  denseRank: number | undefined;
}

export interface RetrievalResult {
  query: string;
  chunks: RetrievedChunk[];
  confidence: number;
  answerable: boolean;
  /** The query's content words and weights. */
  weights: WordWeight[];
  /** Sentences of the top chunks that state part of the query, with their coverage; best first. */
  evidence: SentenceEvidence[];
  timings: { keywordMs: number; denseMs: number; rerankMs: number; totalMs: number };
}

export class Retriever {
  constructor(
    private readonly storage: Storage,
    private readonly embedder: Embedder,
    private readonly parameters: RetrievalParameters,
  ) {}

  /** Cross-encoder reranking, then MMR (over the top k), over the fused candidates; returns the first `count`. */
  private async reorder(
    query: string,
    candidates: ScoredChunk[],
    records: Map<number, ChunkRecord>,
    topK: number,
    maximum: number,
    count = topK,
  ): Promise<{ ordered: ScoredChunk[]; rerankScores: Map<number, number> }> {
    const rerankScores = new Map<number, number>();
    let ordered = candidates.filter(([id]) => records.has(id));
    if (this.parameters.rerank && ordered.length > 1) {
      const pool = ordered.slice(0, this.parameters.rerank.candidates);
      const scores = await this.parameters.rerank.reranker.score(
        query,
        pool.map(([id]) => indexableText(records.get(id)!.title, records.get(id)!)),
      );
      pool.forEach(([id], index) => rerankScores.set(id, scores[index]!));
      const reranked = pool
        .map((entry, index) => ({ entry, score: scores[index]! }))
        .sort((left, right) => right.score - left.score || right.entry[1] - left.entry[1])
        .map((item) => item.entry);
      ordered = [...reranked, ...ordered.slice(pool.length)];
    }
    if (this.parameters.mmrLambda >= 1) return { ordered: ordered.slice(0, count), rerankScores };
    // MMR orders the head of the list, where the answer's context comes from; its cost grows with the square of the
    // window, so the tail (deep search results) keeps the relevance order.
    const window = Math.min(topK, MMR_WINDOW);
    const head = ordered.slice(0, window * 3);
    const terms = await this.storage.keywords.chunkTerms(head.map(([id]) => id));
    const sets = new Map([...terms].map(([id, frequencies]) => [id, new Set(frequencies.keys())]));
    const relevance = head.map(([id], index) => ({ id, relevance: 1 - index / head.length }));
    const picked = maximalMarginalRelevance(relevance, (left, right) => jaccard(sets.get(left) ?? new Set(), sets.get(right) ?? new Set()), window, this.parameters.mmrLambda);
    const pickedIds = new Set(picked.map((item) => item.id));
    const chosen = [...picked, ...ordered.filter(([id]) => !pickedIds.has(id)).map(([id]) => ({ id, relevance: 0 }))].slice(0, count);
    const scores = new Map(ordered);
    return { ordered: chosen.map((item) => [item.id, scores.get(item.id) ?? maximum] as ScoredChunk), rerankScores };
  }

  /** Removes, in place, chunks that repeat a higher-ranked chunk of another document, noting them on that chunk. */
  private async collapseSamePassages(chunks: RetrievedChunk[]): Promise<void> {
    if (chunks.length < 2) return;
    const head = chunks.slice(0, SAME_PASSAGE_WINDOW);
    const terms = await this.storage.keywords.chunkTerms(head.map((chunk) => chunk.id));
    const sets = new Map(head.map((chunk) => [chunk.id, new Set(terms.get(chunk.id)?.keys() ?? [])]));
    const kept: RetrievedChunk[] = [];
    for (const chunk of head) {
      const own = sets.get(chunk.id)!;
      const twin = kept.find((other) => other.documentKey !== chunk.documentKey && own.size > 0 && jaccard(own, sets.get(other.id)!) >= SAME_PASSAGE_SIMILARITY);
      if (twin) (twin.alternatives ??= []).push({ documentId: chunk.documentKey, title: chunk.title, source: chunk.source, ...(chunk.page !== undefined ? { page: chunk.page } : {}) });
      else kept.push(chunk);
    }
    chunks.splice(0, head.length, ...kept);
  }

  /**
   * The query's content words with their evidence weights (see answerability.ts). Segmentation asks whether bigrams
   * that span a word boundary occur in the corpus: their frequencies are fetched in one call beforehand (the adjacent
   * Chinese character pairs of the query), and again for any the first pass missed, so a remote index is asked once
   * or twice per query, not once per term.
   */
  async weighQuery(query: string): Promise<WordWeight[]> {
    const frequencies = new Map<string, number>();
    const lookUp = async (terms: Iterable<string>) => {
      const wanted = [...new Set(terms)].filter((term) => !frequencies.has(term));
      if (wanted.length > 0) for (const [term, frequency] of await this.storage.keywords.documentFrequencies(wanted)) frequencies.set(term, frequency);
    };
    await lookUp(adjacentHanPairs(query));
    let words: ReturnType<typeof contentWords>;
    for (;;) {
      const missing: string[] = [];
      words = contentWords(query, (term) => {
        const frequency = frequencies.get(term);
        if (frequency === undefined) missing.push(term);
        return (frequency ?? 0) > 0;
      });
      if (missing.length === 0) break;
      await lookUp(missing);
    }
    await lookUp(words.flatMap((word) => word.terms));
    const { chunkCount } = await this.storage.keywords.statistics();
    return weighWords(words, (term) => frequencies.get(term) ?? 0, chunkCount);
  }

  /**
   * The RM3 query (feedback.ts) from the first keyword pass: the best relevance-model terms that are the query's own or
   * words under the document-frequency cut, frequencies fetched a batch at a time in model order (a word over the cut
   * is rare: one batch nearly always suffices, so a remote index is asked once).
   */
  private async expandedQuery(queryTerms: ReadonlyMap<string, number>, firstPass: readonly ScoredChunk[], feedback: FeedbackParameters): Promise<Map<string, number>> {
    const { keywords } = this.storage;
    const feedbackChunks = firstPass.slice(0, feedback.documents).map(([id]) => id);
    const model = relevanceModel(firstPass, await keywords.chunkTerms(feedbackChunks), feedback.documents).filter(([term]) => queryTerms.has(term) || isExpansionWord(term));
    const { chunkCount } = await keywords.statistics();
    const top: [string, number][] = [];
    for (let start = 0; start < model.length && top.length < feedback.terms; start += feedback.terms * 2) {
      const batch = model.slice(start, start + feedback.terms * 2);
      const frequencies = await keywords.documentFrequencies(batch.filter(([term]) => !queryTerms.has(term)).map(([term]) => term));
      for (const entry of batch) if (top.length < feedback.terms && (queryTerms.has(entry[0]) || (frequencies.get(entry[0]) ?? 0) <= MAX_DOCUMENT_SHARE * chunkCount)) top.push(entry);
    }
    return expandQuery(queryTerms, top, feedback.originalWeight);
  }

  /**
   * The best chunks for a query among those the scope may read (and the filters select). `expand` (default true)
   * allows RM3 feedback for English queries: a second keyword pass with up to 20 more terms. Answers use it (it lifts
   * cranfield above its reference); the search route only when asked.
   */
  async retrieve(query: string, topK: number, scope: ReadScope, filters: SearchFilters = {}, options: RetrieveOptions = {}): Promise<RetrievalResult> {
    const started = performance.now();
    await this.storage.refresh();
    const searchScope: SearchScope = {
      read: scope,
      filters: {
        ...(filters.documentIds ? { documentKeys: filters.documentIds } : {}),
        ...(filters.sourcePrefix ? { sourcePrefix: filters.sourcePrefix } : {}),
        ...(filters.language ? { language: filters.language } : {}),
        ...(filters.tags ? { tags: filters.tags } : {}),
        ...(filters.department ? { department: filters.department } : {}),
      },
    };
    const { keywords, vectors, documents } = this.storage;

    const language = detectLanguage(query);
    const keywordStarted = performance.now();
    const queryTerms = queryTermWeights(query, this.parameters.pairWeight);
    // IDF comes from the whole collection even when a filter narrows the candidates.
    let keyword = await keywords.search(queryTerms, searchScope, this.parameters.candidates, this.parameters.bm25);
    // RM3 only for English: expansion terms drawn from Chinese bigrams drift (measured on cmrc2018, docs/EVALUATION.md).
    if (this.parameters.feedback && options.expand !== false && keyword.length > 0 && language === 'en') {
      keyword = await keywords.search(await this.expandedQuery(queryTerms, keyword, this.parameters.feedback), searchScope, this.parameters.candidates, this.parameters.bm25);
    }
    const keywordMs = performance.now() - keywordStarted;

    const denseStarted = performance.now();
    const dense: ScoredChunk[] = this.parameters.denseWeight > 0 ? await vectors.search(await this.embedder.embedQuery(query), searchScope, this.parameters.candidates) : [];
    const denseMs = performance.now() - denseStarted;

    const lists: RankedList[] = [
      { results: keyword, weight: this.parameters.keywordWeight },
      { results: dense, weight: this.parameters.denseWeight },
    ];
    const maximum = maximumRrfScore(lists, this.parameters.rrfK);
    // A few spare results beyond topK replace those that the same-passage collapse folds into an earlier one.
    const wanted = topK + Math.min(topK, SAME_PASSAGE_SPARES);
    const pool = Math.max(wanted, this.parameters.rerank ? this.parameters.rerank.candidates : 0, this.parameters.mmrLambda < 1 ? Math.min(topK, MMR_WINDOW) * 3 : 0);
    const candidates = reciprocalRankFusion(lists, this.parameters.rrfK).slice(0, pool);
    const keywordRanks = new Map(keyword.map(([id], index) => [id, index + 1]));
    const denseRanks = new Map(dense.map(([id], index) => [id, index + 1]));
    const records = await documents.getChunks(candidates.map(([id]) => id));
    const rerankStarted = performance.now();
    const { ordered: fused, rerankScores } = await this.reorder(query, candidates, records, topK, maximum, wanted);
    const rerankMs = performance.now() - rerankStarted;

    const weights = await this.weighQuery(query);

    const chunks: RetrievedChunk[] = [];
    for (const [id, score] of fused) {
      const record = records.get(id);
      if (!record) continue; // deleted by a concurrent writer between ranking and loading
      chunks.push({
        ...record,
        score: maximum > 0 ? score / maximum : 0,
        keywordRank: keywordRanks.get(id),
        denseRank: denseRanks.get(id),
        ...(rerankScores.has(id) ? { rerankScore: rerankScores.get(id)! } : {}),
      });
    }
    await this.collapseSamePassages(chunks);
    chunks.splice(topK);
    const evidence = sentenceEvidence(chunks.slice(0, this.parameters.evidenceChunks), weights).sort(
      (left, right) => right.coverage - left.coverage || right.ownCoverage - left.ownCoverage || left.chunkIndex - right.chunkIndex || left.position - right.position,
    );
    const confidence = evidence[0]?.coverage ?? 0;
    return {
      query,
      chunks,
      confidence,
      answerable: chunks.length > 0 && confidence >= this.parameters.answerThreshold,
      weights,
      evidence,
      timings: { keywordMs, denseMs, rerankMs, totalMs: performance.now() - started },
    };
  }
}

/** Adjacent Chinese characters of a text: the bigrams segmentation may ask about (text/tokenize.ts cjkWords). */
function adjacentHanPairs(text: string): string[] {
  const characters = Array.from(text);
  const pairs: string[] = [];
  for (let index = 1; index < characters.length; index++) {
    if (/\p{Script=Han}/u.test(characters[index - 1]!) && /\p{Script=Han}/u.test(characters[index]!)) pairs.push(characters[index - 1]! + characters[index]!);
  }
  return pairs;
}
