// The LanguageModel and Answerer seams. A provider only talks to its API; retries, timeouts and the fallback to
// extractive answers are the core's job (answerer.ts).
import type { KbError } from '../errors.ts';
import type { Language } from '../text/language.ts';
import type { AlternativeSource } from '../retrieve/retriever.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface GenerateOptions {
  maxTokens: number;
  temperature?: number;
  signal?: AbortSignal;
}

export type ModelStreamPart = { type: 'text-delta'; text: string } | { type: 'finish'; reason: string } | { type: 'error'; error: KbError };

export interface LanguageModel {
  readonly id: string;
  generate(messages: ChatMessage[], options: GenerateOptions): Promise<string>;
  stream(messages: ChatMessage[], options: GenerateOptions): AsyncIterable<ModelStreamPart>;
}

export interface Citation {
  n: number;
  documentId: string;
  title: string;
  source: string;
  page?: number;
  headings?: string[];
  /** The passage was read by OCR (a scanned page, an image). */
  ocr?: true;
  url?: string;
  /** The same passage in other documents (another format or copy), cited once here. */
  alternatives?: AlternativeSource[];
  /** A signed link to the original file on this server (added by the HTTP layer), when there is one. */
  fileUrl?: string;
  snippet: string;
  score: number;
}

/** What an answer is: from the knowledge base, a reply to small talk, or "not in the knowledge base". */
export type AnswerKind = 'answer' | 'smalltalk' | 'not_found';

export interface AnswerResult {
  answer: string;
  answerable: boolean;
  kind: AnswerKind;
  confidence: number;
  citations: Citation[];
  language: Language;
  /** Which answerer produced the text. */
  answeredBy: 'extractive' | 'llm' | 'none' | 'curated';
  /** Set when the LLM failed and the extractive answer was used instead. */
  fallback?: { reason: string };
  /** [n] markers in the model's text that pointed to no retrieved chunk; they were removed. */
  droppedCitations?: number[];
}

export type AnswerPart = { type: 'delta'; text: string } | { type: 'done'; result: AnswerResult };
