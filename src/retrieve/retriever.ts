// Hybrid retrieval: BM25 over the keyword postings and nearest neighbours over the vectors, fused by reciprocal
// rank, then the answerability evidence for the best chunks. Chunk text is loaded only for the final top-k.
import type { Embedder } from '../embed/types.ts';
import type { ChunkRecord, ScoredChunk, Store } from '../store/types.ts';
import { detectLanguage, type Language } from '../text/language.ts';
import { contentWords, queryTerms as queryTermWeights } from '../text/tokenize.ts';
import { sentenceEvidence, weighWords, type SentenceEvidence, type WordWeight } from './answerability.ts';
import type { Bm25Parameters } from './bm25.ts';
import { relevanceModelQuery, type FeedbackParameters } from './feedback.ts';
import { jaccard, maximalMarginalRelevance } from './diversity.ts';
import type { Reranker } from './reranker.ts';
import { indexableText } from '../ingest/chunker.ts';
import { maximumRrfScore, reciprocalRankFusion, type RankedList } from './fusion.ts';
import type { ReadScope } from './read-scope.ts';
import { LatentIndex, latentQueryVector, latentSearch, type LatentSettings } from './latent.ts';

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
  /** Latent vectors learned from the corpus (latent.ts) as a third list in fusion; off when undefined. */
  latent?: { weight: number; settings: LatentSettings; maxChunks: number; languages: readonly Language[] };
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
  latentRank?: number | undefined;
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
  timings: { keywordMs: number; denseMs: number; latentMs?: number; rerankMs: number; totalMs: number };
}

export class Retriever {
  /** Vectors learned from the corpus (latent.ts), kept in step with the index. */
  readonly latent: LatentIndex | undefined;

  constructor(
    private readonly store: Store,
    private readonly embedder: Embedder,
    private readonly parameters: RetrievalParameters,
  ) {
    this.latent = parameters.latent && parameters.latent.weight > 0 ? new LatentIndex(store, parameters.latent.settings, parameters.latent.maxChunks) : undefined;
  }

  /** Cross-encoder reranking, then MMR (over the top k), over the fused candidates; returns the first `count`. */
  private async reorder(query: string, candidates: ScoredChunk[], records: Map<number, ChunkRecord>, topK: number, maximum: number, count = topK): Promise<{ ordered: ScoredChunk[]; rerankScores: Map<number, number> }> {
    const rerankScores = new Map<number, number>();
    let ordered = candidates.filter(([id]) => records.has(id));
    if (this.parameters.rerank && ordered.length > 1) {
      const pool = ordered.slice(0, this.parameters.rerank.candidates);
      const scores = await this.parameters.rerank.reranker.score(query, pool.map(([id]) => indexableText(records.get(id)!.title, records.get(id)!)));
      pool.forEach(([id], index) => rerankScores.set(id, scores[index]!));
      const reranked = pool.map((entry, index) => ({ entry, score: scores[index]! })).sort((left, right) => right.score - left.score || right.entry[1] - left.entry[1]).map((item) => item.entry);
      ordered = [...reranked, ...ordered.slice(pool.length)];
    }
    if (this.parameters.mmrLambda >= 1) return { ordered: ordered.slice(0, count), rerankScores };
    // MMR orders the head of the list, where the answer's context comes from; its cost grows with the square of the
    // window, so the tail (deep search results) keeps the relevance order.
    const window = Math.min(topK, MMR_WINDOW);
    const head = ordered.slice(0, window * 3);
    const terms = this.store.chunkTerms(head.map(([id]) => id));
    const sets = new Map([...terms].map(([id, frequencies]) => [id, new Set(frequencies.keys())]));
    const relevance = head.map(([id], index) => ({ id, relevance: 1 - index / head.length }));
    const picked = maximalMarginalRelevance(relevance, (left, right) => jaccard(sets.get(left) ?? new Set(), sets.get(right) ?? new Set()), window, this.parameters.mmrLambda);
    const pickedIds = new Set(picked.map((item) => item.id));
    const chosen = [...picked, ...ordered.filter(([id]) => !pickedIds.has(id)).map(([id]) => ({ id, relevance: 0 }))].slice(0, count);
    const scores = new Map(ordered);
    return { ordered: chosen.map((item) => [item.id, scores.get(item.id) ?? maximum] as ScoredChunk), rerankScores };
  }

  /** Removes, in place, chunks that repeat a higher-ranked chunk of another document, noting them on that chunk. */
  private collapseSamePassages(chunks: RetrievedChunk[]): void {
    if (chunks.length < 2) return;
    const head = chunks.slice(0, SAME_PASSAGE_WINDOW);
    const terms = this.store.chunkTerms(head.map((chunk) => chunk.id));
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

  /** The query's content words with their evidence weights (see answerability.ts). */
  weighQuery(query: string): WordWeight[] {
    const known = new Map<string, boolean>();
    const isKnown = (term: string) => {
      let value = known.get(term);
      if (value === undefined) known.set(term, (value = (this.store.documentFrequencies([term]).get(term) ?? 0) > 0));
      return value;
    };
    const words = contentWords(query, isKnown);
    const frequencies = this.store.documentFrequencies([...new Set(words.flatMap((word) => word.terms))]);
    return weighWords(words, (term) => frequencies.get(term) ?? 0, this.store.keywordStatistics().chunkCount);
  }

  /** The best chunks for a query among those the scope may read (and the filters select). */
  /**
   * `expand` (default true) allows RM3 feedback for English queries: a second keyword pass of 30 more, mostly frequent
   * terms, half the cost of a search at 100k chunks. Answers use it (it lifts cranfield above its reference); the
   * search route only when asked.
   */
  async retrieve(query: string, topK: number, scope: ReadScope, filters: SearchFilters = {}, options: RetrieveOptions = {}): Promise<RetrievalResult> {
    const started = performance.now();
    this.store.refresh();
    const allowed = this.store.chunksMatching({
      ...(filters.documentIds ? { documentKeys: filters.documentIds } : {}),
      ...(filters.sourcePrefix ? { sourcePrefix: filters.sourcePrefix } : {}),
      ...(filters.language ? { language: filters.language } : {}),
      ...(filters.tags ? { tags: filters.tags } : {}),
      ...(filters.department ? { department: filters.department } : {}),
      ...(scope.readerGroups !== 'all' ? { readerGroups: [...scope.readerGroups] } : {}),
    });

    const language = detectLanguage(query);
    const keywordStarted = performance.now();
    const queryTerms = queryTermWeights(query, this.parameters.pairWeight);
    // IDF comes from the whole collection even when a filter narrows the candidates.
    let keyword = this.store.keywordSearch(queryTerms, this.parameters.bm25, this.parameters.candidates, allowed);
    // RM3 only for English: expansion terms drawn from Chinese bigrams drift (measured on cmrc2018, docs/EVALUATION.md).
    if (this.parameters.feedback && options.expand !== false && keyword.length > 0 && language === 'en') {
      const feedbackChunks = keyword.slice(0, this.parameters.feedback.documents).map(([id]) => id);
      const expanded = relevanceModelQuery(queryTerms, keyword, this.store.chunkTerms(feedbackChunks), this.parameters.feedback);
      keyword = this.store.keywordSearch(expanded, this.parameters.bm25, this.parameters.candidates, allowed);
    }
    const keywordMs = performance.now() - keywordStarted;

    const denseStarted = performance.now();
    const dense: ScoredChunk[] = this.parameters.denseWeight > 0 ? this.store.denseSearch(await this.embedder.embedQuery(query), this.parameters.candidates, allowed) : [];
    const denseMs = performance.now() - denseStarted;

    const latentStarted = performance.now();
    let latent: ScoredChunk[] = [];
    const latentParameters = this.parameters.latent;
    if (this.latent && latentParameters && latentParameters.languages.includes(language)) {
      const model = this.latent.current();
      const vector = model ? latentQueryVector(model, queryTerms.keys()) : undefined;
      if (model && vector) latent = latentSearch(model, vector, this.parameters.candidates, allowed);
    }
    const latentMs = performance.now() - latentStarted;

    const lists: RankedList[] = [
      { results: keyword, weight: this.parameters.keywordWeight },
      { results: dense, weight: this.parameters.denseWeight },
      { results: latent, weight: latentParameters?.weight ?? 0 },
    ];
    const maximum = maximumRrfScore(lists, this.parameters.rrfK);
    // A few spare results beyond topK replace those that the same-passage collapse folds into an earlier one.
    const wanted = topK + Math.min(topK, SAME_PASSAGE_SPARES);
    const pool = Math.max(wanted, this.parameters.rerank ? this.parameters.rerank.candidates : 0, this.parameters.mmrLambda < 1 ? Math.min(topK, MMR_WINDOW) * 3 : 0);
    const candidates = reciprocalRankFusion(lists, this.parameters.rrfK).slice(0, pool);
    const keywordRanks = new Map(keyword.map(([id], index) => [id, index + 1]));
    const denseRanks = new Map(dense.map(([id], index) => [id, index + 1]));
    const latentRanks = new Map(latent.map(([id], index) => [id, index + 1]));
    const records = this.store.getChunks(candidates.map(([id]) => id));
    const rerankStarted = performance.now();
    const { ordered: fused, rerankScores } = await this.reorder(query, candidates, records, topK, maximum, wanted);
    const rerankMs = performance.now() - rerankStarted;

    const weights = this.weighQuery(query);

    const chunks: RetrievedChunk[] = [];
    for (const [id, score] of fused) {
      const record = records.get(id);
      if (!record) continue; // deleted by a concurrent writer between ranking and loading
      chunks.push({ ...record, score: maximum > 0 ? score / maximum : 0, keywordRank: keywordRanks.get(id), denseRank: denseRanks.get(id), ...(latentRanks.has(id) ? { latentRank: latentRanks.get(id) } : {}), ...(rerankScores.has(id) ? { rerankScore: rerankScores.get(id)! } : {}) });
    }
    this.collapseSamePassages(chunks);
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
      timings: { keywordMs, denseMs, ...(latentParameters ? { latentMs } : {}), rerankMs, totalMs: performance.now() - started },
    };
  }
}
