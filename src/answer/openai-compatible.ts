// OpenAI-compatible chat completions (OpenAI, DeepSeek, Qwen/DashScope, vLLM, Ollama, llama.cpp server): one POST
// to {baseUrl}/chat/completions, plain or streamed as server-sent events. Only the fields we read are validated.
import { z } from 'zod';
import { KbError, describeError } from '../errors.ts';
import type { ChatMessage, GenerateOptions, LanguageModel, ModelStreamPart } from './types.ts';

export interface OpenAiCompatibleOptions {
  baseUrl: string;
  apiKey?: string;
  model: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

const completionSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullable() }), finish_reason: z.string().nullable().optional() })).min(1),
});

const chunkSchema = z.object({
  choices: z.array(z.object({ delta: z.object({ content: z.string().nullable().optional() }).optional(), finish_reason: z.string().nullable().optional() })),
});

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export class OpenAiCompatibleModel implements LanguageModel {
  readonly id: string;
  private readonly fetchFunction: typeof fetch;
  private readonly url: string;

  constructor(private readonly options: OpenAiCompatibleOptions) {
    this.id = `openai-compatible:${options.model}`;
    this.fetchFunction = options.fetch ?? fetch;
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  }

  private async post(messages: ChatMessage[], options: GenerateOptions, stream: boolean): Promise<{ response: Response; timeout: AbortSignal }> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await this.fetchFunction(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: stream ? 'text/event-stream' : 'application/json',
          ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
        },
        body: JSON.stringify({ model: this.options.model, messages, stream, max_tokens: options.maxTokens, temperature: options.temperature ?? 0.1 }),
        signal,
      });
    } catch (error) {
      throw this.transportError(error, timeout);
    }
    if (!response.ok) {
      const body = (await response.text().catch(() => '')).slice(0, 300);
      throw new KbError('KB_ERR_LLM', { details: `HTTP ${response.status} from ${this.url}${body ? `: ${body}` : ''}` }, { retryable: isRetryableStatus(response.status) });
    }
    return { response, timeout };
  }

  private transportError(error: unknown, timeout: AbortSignal): KbError {
    if (error instanceof KbError) return error;
    if (timeout.aborted) return new KbError('KB_ERR_LLM_TIMEOUT', { timeoutMs: this.options.timeoutMs }, { cause: error, retryable: true });
    return new KbError('KB_ERR_LLM', { details: `${this.url}: ${describeError(error)}` }, { cause: error, retryable: true });
  }

  async generate(messages: ChatMessage[], options: GenerateOptions): Promise<string> {
    const { response, timeout } = await this.post(messages, options, false);
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      throw timeout.aborted ? this.transportError(error, timeout) : new KbError('KB_ERR_LLM', { details: 'the response is not JSON' }, { cause: error });
    }
    const parsed = completionSchema.safeParse(body);
    if (!parsed.success) throw new KbError('KB_ERR_LLM', { details: 'the response has no choices[0].message.content' });
    return parsed.data.choices[0]!.message.content ?? '';
  }

  async *stream(messages: ChatMessage[], options: GenerateOptions): AsyncIterable<ModelStreamPart> {
    let response: Response;
    let timeout: AbortSignal;
    try {
      ({ response, timeout } = await this.post(messages, options, true));
    } catch (error) {
      yield { type: 'error', error: error as KbError };
      return;
    }
    if (!response.body) {
      yield { type: 'error', error: new KbError('KB_ERR_LLM', { details: 'the streamed response has no body' }) };
      return;
    }
    const decoder = new TextDecoder();
    let buffer = '';
    let finished = false;
    try {
      for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(bytes, { stream: true });
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).replace(/\r$/, '');
          buffer = buffer.slice(newline + 1);
          if (!line.startsWith('data:')) continue;
          const data = line.slice(5).trim();
          if (data === '[DONE]') {
            yield { type: 'finish', reason: 'stop' };
            return;
          }
          let parsed;
          try {
            parsed = chunkSchema.safeParse(JSON.parse(data));
          } catch {
            parsed = undefined;
          }
          if (!parsed?.success) {
            yield { type: 'error', error: new KbError('KB_ERR_LLM', { details: `malformed stream chunk: ${data.slice(0, 120)}` }) };
            return;
          }
          const choice = parsed.data.choices[0];
          const text = choice?.delta?.content;
          if (text) yield { type: 'text-delta', text };
          if (choice?.finish_reason) finished = true;
        }
      }
    } catch (error) {
      yield { type: 'error', error: this.transportError(error, timeout) };
      return;
    }
    if (finished) yield { type: 'finish', reason: 'stop' };
    else yield { type: 'error', error: new KbError('KB_ERR_LLM', { details: 'the stream ended before the answer was complete' }, { retryable: true }) };
  }
}
