// Retrieval evaluation on BEIR-layout datasets (corpus.jsonl, queries.jsonl, qrels/<split>.tsv): each corpus entry
// becomes a document, each query is retrieved through the real retriever, chunks are collapsed to their documents
// (best rank wins), and nDCG@10, Recall@10, Recall@100 and MRR@10 are computed with trec_eval conventions.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { TextDocument } from '../ingest/pipeline.ts';
import { readJsonLines } from './json-lines.ts';
import type { KnowledgeBase } from '../knowledge-base.ts';
import type { RetrievalResult } from '../retrieve/retriever.ts';
import { mean, ndcgAtK, percentile, recallAtK, reciprocalRankAtK } from './metrics.ts';
import { READ_EVERYTHING } from '../retrieve/read-scope.ts';

const corpusLine = z.object({ _id: z.union([z.string(), z.number()]).transform(String), title: z.string().optional().default(''), text: z.string() });
const queryLine = z.object({ _id: z.union([z.string(), z.number()]).transform(String), text: z.string() });

export interface BeirDataset {
  documents: TextDocument[];
  queries: Map<string, string>;
  /** query id → (document id → graded relevance). */
  qrels: Map<string, Map<string, number>>;
  split: string;
}

export function readBeirCorpus(directory: string): TextDocument[] {
  const file = path.join(directory, 'corpus.jsonl');
  if (!existsSync(file)) throw new Error(`${file} not found: a BEIR dataset folder has corpus.jsonl, queries.jsonl and qrels/`);
  return readJsonLines(file, corpusLine).map((entry) => ({ source: entry._id, title: entry.title, text: entry.text }));
}

export function readBeirDataset(directory: string, split?: string): BeirDataset {
  const qrelsDir = path.join(directory, 'qrels');
  const splits = existsSync(qrelsDir)
    ? readdirSync(qrelsDir)
        .filter((name) => name.endsWith('.tsv'))
        .map((name) => name.replace(/\.tsv$/, ''))
    : [];
  const chosen = split ?? (splits.length === 1 ? splits[0] : undefined);
  if (!chosen || !splits.includes(chosen)) throw new Error(`choose a split with --split (found: ${splits.join(', ') || 'none'})`);
  const qrels = new Map<string, Map<string, number>>();
  const lines = readFileSync(path.join(qrelsDir, `${chosen}.tsv`), 'utf8')
    .split('\n')
    .slice(1);
  for (const line of lines) {
    const [queryId, documentId, score] = line.trim().split('\t');
    if (!queryId || !documentId || score === undefined) continue;
    if (!qrels.has(queryId)) qrels.set(queryId, new Map());
    qrels.get(queryId)!.set(documentId, Number(score));
  }
  const queries = new Map(readJsonLines(path.join(directory, 'queries.jsonl'), queryLine).map((query) => [query._id, query.text]));
  return { documents: readBeirCorpus(directory), queries, qrels, split: chosen };
}

/** Documents in rank order from a chunk ranking: a document takes the rank of its best chunk. */
export function rankDocuments(retrieval: RetrievalResult): string[] {
  const seen = new Set<string>();
  const ranked: string[] = [];
  for (const chunk of retrieval.chunks) {
    if (seen.has(chunk.source)) continue;
    seen.add(chunk.source);
    ranked.push(chunk.source);
  }
  return ranked;
}

export interface RetrievalReport {
  'ndcg@10': number;
  'recall@10': number;
  'recall@100': number;
  'mrr@10': number;
  index_seconds: number;
  query_ms_p50: number;
}

/** Chunks retrieved per query: enough distinct documents for Recall@100 when documents have several chunks. */
export const EVALUATION_CHUNKS = 300;

export async function evaluateRetrieval(knowledgeBase: KnowledgeBase, dataset: BeirDataset, indexSeconds: number, onProgress?: (done: number) => void): Promise<RetrievalReport> {
  const ndcg: number[] = [];
  const recall10: number[] = [];
  const recall100: number[] = [];
  const mrr: number[] = [];
  const times: number[] = [];
  let done = 0;
  for (const [queryId, judgments] of dataset.qrels) {
    const text = dataset.queries.get(queryId);
    if (text === undefined) continue;
    const started = performance.now();
    const retrieval = await knowledgeBase.search(text, EVALUATION_CHUNKS, READ_EVERYTHING);
    times.push(performance.now() - started);
    const ranked = rankDocuments(retrieval);
    ndcg.push(ndcgAtK(ranked, judgments, 10));
    recall10.push(recallAtK(ranked, judgments, 10));
    recall100.push(recallAtK(ranked, judgments, 100));
    mrr.push(reciprocalRankAtK(ranked, judgments, 10));
    onProgress?.(++done);
  }
  const round = (value: number) => Math.round(value * 10000) / 10000;
  return {
    'ndcg@10': round(mean(ndcg)),
    'recall@10': round(mean(recall10)),
    'recall@100': round(mean(recall100)),
    'mrr@10': round(mean(mrr)),
    index_seconds: Math.round(indexSeconds * 100) / 100,
    query_ms_p50: Math.round(percentile(times, 0.5) * 100) / 100,
  };
}

export interface TraceRow {
  document: string;
  relevance: number;
  keywordRank: number | undefined;
  denseRank: number | undefined;
  fusedRank: number | undefined;
}

/** For one query: the keyword, dense and fused document ranks of each returned and each relevant document. */
export async function traceQuery(knowledgeBase: KnowledgeBase, dataset: BeirDataset, queryId: string): Promise<{ query: string; rows: TraceRow[] }> {
  const query = dataset.queries.get(queryId);
  if (query === undefined) throw new Error(`no query with id ${queryId}`);
  const judgments = dataset.qrels.get(queryId) ?? new Map<string, number>();
  const retrieval = await knowledgeBase.search(query, EVALUATION_CHUNKS, READ_EVERYTHING);
  const fused = rankDocuments(retrieval);
  const bestRank = (rank: (chunk: RetrievalResult['chunks'][number]) => number | undefined) => {
    const ranks = new Map<string, number>();
    for (const chunk of retrieval.chunks) {
      const value = rank(chunk);
      if (value !== undefined && value < (ranks.get(chunk.source) ?? Infinity)) ranks.set(chunk.source, value);
    }
    // Chunk ranks → document ranks: order documents by their best chunk rank.
    const ordered = [...ranks.entries()].sort((left, right) => left[1] - right[1]).map(([document]) => document);
    return new Map(ordered.map((document, index) => [document, index + 1]));
  };
  const keyword = bestRank((chunk) => chunk.keywordRank);
  const dense = bestRank((chunk) => chunk.denseRank);
  const documents = [...new Set([...fused.slice(0, 10), ...judgments.keys()])];
  return {
    query,
    rows: documents.map((document) => ({
      document,
      relevance: judgments.get(document) ?? 0,
      keywordRank: keyword.get(document),
      denseRank: dense.get(document),
      fusedRank: fused.indexOf(document) >= 0 ? fused.indexOf(document) + 1 : undefined,
    })),
  };
}
