// Asking several collections at once: each collection is searched with its own index (its own IDF, embedder and
// settings), and the ranked lists are merged by reciprocal rank — rank-based, so a large collection's scores cannot
// drown a small one's, and each collection's best chunk competes on equal terms. Evidence sentences keep their own
// coverage (already a 0..1 share of the question) and are renumbered to the merged order.
import type { RetrievalResult, RetrievedChunk } from '../retrieve/retriever.ts';
import type { SentenceEvidence } from '../retrieve/answerability.ts';

/** RRF constant for merging collections (1..200). */
const MERGE_RRF_K = 60;

export function mergeRetrievals(retrievals: readonly RetrievalResult[], topK: number, answerThreshold: number): RetrievalResult {
  const scored: { chunk: RetrievedChunk; score: number; origin: number; index: number }[] = [];
  retrievals.forEach((retrieval, origin) => retrieval.chunks.forEach((chunk, index) => scored.push({ chunk, score: 1 / (MERGE_RRF_K + index + 1), origin, index })));
  scored.sort((left, right) => right.score - left.score || left.origin - right.origin);
  const kept = scored.slice(0, topK);
  const position = new Map(kept.map((item, merged) => [`${item.origin}:${item.index}`, merged]));
  const evidence: SentenceEvidence[] = [];
  retrievals.forEach((retrieval, origin) => {
    for (const item of retrieval.evidence) {
      const merged = position.get(`${origin}:${item.chunkIndex}`);
      if (merged !== undefined) evidence.push({ ...item, chunkIndex: merged });
    }
  });
  evidence.sort((left, right) => right.coverage - left.coverage || right.ownCoverage - left.ownCoverage || left.chunkIndex - right.chunkIndex || left.position - right.position);
  const confidence = evidence[0]?.coverage ?? 0;
  const first = retrievals[0];
  return {
    query: first?.query ?? '',
    chunks: kept.map((item) => item.chunk),
    confidence,
    answerable: kept.length > 0 && confidence >= answerThreshold,
    weights: first?.weights ?? [],
    evidence,
    timings: {
      keywordMs: retrievals.reduce((sum, item) => sum + item.timings.keywordMs, 0),
      denseMs: retrievals.reduce((sum, item) => sum + item.timings.denseMs, 0),
      rerankMs: retrievals.reduce((sum, item) => sum + item.timings.rerankMs, 0),
      totalMs: Math.max(0, ...retrievals.map((item) => item.timings.totalMs)),
    },
  };
}
