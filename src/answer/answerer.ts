// The Answerer: retrieval result + question → cited answer, or a structured refusal. It streams parts; the JSON
// route simply collects them. The LLM path retries once on a retryable error before any text, and falls back to the
// extractive answer when the model errors or times out, saying so in the result.
import { KbError, describeError } from '../errors.ts';
import type { RetrievalResult, RetrievedChunk } from '../retrieve/retriever.ts';
import { detectLanguage, type Language } from '../text/language.ts';
import { checkCitations, stripInvalidMarkers } from './citations.ts';
import { extractAnswer } from './extractive.ts';
import { fallbackNotes, refusalMessages } from './messages.ts';
import { NO_ANSWER_TOKEN, buildMessages } from './prompt.ts';
import type { AnswerPart, AnswerResult, ChatMessage, Citation, LanguageModel } from './types.ts';

/** Characters of a chunk shown as a citation snippet. */
const SNIPPET_CHARACTERS = 240;
/** Extractive answers are streamed in pieces of this many characters, like a model would. */
const STREAM_PIECE_CHARACTERS = 12;

export interface AnswererOptions {
  model: LanguageModel | undefined;
  maxTokens: number;
}

export function citationOf(chunk: RetrievedChunk, n: number): Citation {
  const snippet = chunk.text.length > SNIPPET_CHARACTERS ? chunk.text.slice(0, SNIPPET_CHARACTERS).trimEnd() + '…' : chunk.text;
  return {
    n,
    documentId: chunk.documentKey,
    title: chunk.title,
    source: chunk.source,
    ...(chunk.page !== undefined ? { page: chunk.page } : {}),
    ...(chunk.headings.length > 0 ? { headings: chunk.headings } : {}),
    ...(chunk.ocr ? { ocr: true as const } : {}),
    ...(chunk.url ? { url: chunk.url } : {}),
    ...(chunk.alternatives ? { alternatives: chunk.alternatives } : {}),
    snippet,
    score: Math.round(chunk.score * 10000) / 10000,
  };
}

function* pieces(text: string): Generator<string> {
  const characters = Array.from(text);
  for (let start = 0; start < characters.length; start += STREAM_PIECE_CHARACTERS) yield characters.slice(start, start + STREAM_PIECE_CHARACTERS).join('');
}

export class Answerer {
  constructor(private readonly options: AnswererOptions) {}

  get usesLanguageModel(): boolean {
    return this.options.model !== undefined;
  }

  async answer(question: string, retrieval: RetrievalResult, history: readonly ChatMessage[] = []): Promise<AnswerResult> {
    let result: AnswerResult | undefined;
    for await (const part of this.stream(question, retrieval, history)) if (part.type === 'done') result = part.result;
    return result!;
  }

  async *stream(question: string, retrieval: RetrievalResult, history: readonly ChatMessage[] = [], signal?: AbortSignal): AsyncGenerator<AnswerPart> {
    const language = detectLanguage(question);
    const confidence = Math.round(retrieval.confidence * 1000) / 1000;
    if (!retrieval.answerable) {
      yield* this.refuse(language, confidence);
      return;
    }
    if (this.options.model) {
      yield* this.streamFromModel(this.options.model, question, language, retrieval, history, signal);
      return;
    }
    yield* this.streamExtractive(question, language, retrieval);
  }

  private *refuse(language: Language, confidence: number): Generator<AnswerPart> {
    const answer = refusalMessages[language];
    yield { type: 'delta', text: answer };
    yield { type: 'done', result: { answer, answerable: false, kind: 'not_found', confidence, citations: [], language, answeredBy: 'none' } };
  }

  private extractive(retrieval: RetrievalResult): { text: string; citations: Citation[] } {
    // Sentences are scored against the retrieval query, which for a follow-up carries the earlier question's words.
    const { text, usedChunks } = extractAnswer(retrieval.chunks, retrieval.evidence, retrieval.weights, retrieval.query);
    return { text, citations: usedChunks.map((index) => citationOf(retrieval.chunks[index]!, index + 1)) };
  }

  private *streamExtractive(question: string, language: Language, retrieval: RetrievalResult, fallback?: { reason: string }): Generator<AnswerPart> {
    const { text, citations } = this.extractive(retrieval);
    const answer = fallback ? `${fallbackNotes[language]}\n${text}` : text;
    for (const piece of pieces(answer)) yield { type: 'delta', text: piece };
    yield {
      type: 'done',
      result: {
        answer,
        answerable: true,
        kind: 'answer',
        confidence: Math.round(retrieval.confidence * 1000) / 1000,
        citations,
        language,
        answeredBy: 'extractive',
        ...(fallback ? { fallback } : {}),
      },
    };
  }

  private async *streamFromModel(
    model: LanguageModel,
    question: string,
    language: Language,
    retrieval: RetrievalResult,
    history: readonly ChatMessage[],
    signal: AbortSignal | undefined,
  ): AsyncGenerator<AnswerPart> {
    const context = retrieval.chunks;
    const messages = buildMessages(question, language, context, history);
    let text = '';
    let emitted = 0;
    let failure: KbError | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      failure = undefined;
      text = '';
      emitted = 0;
      for await (const part of model.stream(messages, { maxTokens: this.options.maxTokens, ...(signal ? { signal } : {}) })) {
        if (part.type === 'text-delta') {
          text += part.text;
          // Hold text back until it cannot be the start of the NO_ANSWER token, and never emit a partial "[1" marker.
          const safeEnd = safeEmitLength(text);
          if (safeEnd > emitted && !NO_ANSWER_TOKEN.startsWith(text.trim().slice(0, NO_ANSWER_TOKEN.length))) {
            yield { type: 'delta', text: stripInvalidMarkers(text.slice(emitted, safeEnd), context.length) };
            emitted = safeEnd;
          }
        } else if (part.type === 'error') {
          failure = part.error;
          break;
        } else break;
      }
      // Retry only what failed before anything reached the client.
      if (!failure || !failure.retryable || emitted > 0 || signal?.aborted) break;
    }
    if (failure) {
      if (emitted > 0) {
        // Part of the model's answer is already on the wire: close it honestly rather than splice in another answer.
        yield { type: 'delta', text: `\n${fallbackNotes[language]}` };
      }
      const extractive = this.extractive(retrieval);
      if (emitted > 0) {
        yield { type: 'delta', text: `\n${extractive.text}` };
        yield {
          type: 'done',
          result: {
            answer: `${text}\n${fallbackNotes[language]}\n${extractive.text}`,
            answerable: true,
            kind: 'answer',
            confidence: retrieval.confidence,
            citations: extractive.citations,
            language,
            answeredBy: 'extractive',
            fallback: { reason: describeError(failure) },
          },
        };
        return;
      }
      yield* this.streamExtractive(question, language, retrieval, { reason: describeError(failure) });
      return;
    }
    if (text.trim().startsWith(NO_ANSWER_TOKEN) || text.trim() === '') {
      yield* this.refuse(language, Math.round(retrieval.confidence * 1000) / 1000);
      return;
    }
    if (emitted < text.length) yield { type: 'delta', text: stripInvalidMarkers(text.slice(emitted), context.length) };
    const checked = checkCitations(text, context.length);
    const citedChunks = checked.cited.length > 0 ? checked.cited : context.map((_, index) => index + 1);
    yield {
      type: 'done',
      result: {
        answer: checked.text,
        answerable: true,
        kind: 'answer',
        confidence: Math.round(retrieval.confidence * 1000) / 1000,
        citations: citedChunks.map((n) => citationOf(context[n - 1]!, n)),
        language,
        answeredBy: 'llm',
        ...(checked.dropped.length > 0 ? { droppedCitations: checked.dropped } : {}),
      },
    };
  }
}

/** Text up to the last point that cannot be inside an unfinished "[12" citation marker. */
function safeEmitLength(text: string): number {
  const open = text.lastIndexOf('[');
  if (open >= 0 && text.indexOf(']', open) < 0 && text.length - open <= 12) return open;
  return text.length;
}
