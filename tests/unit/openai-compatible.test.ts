import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OpenAiCompatibleModel } from '../../src/answer/openai-compatible.ts';
import type { ModelStreamPart } from '../../src/answer/types.ts';
import { KbError } from '../../src/errors.ts';
import { FakeOpenAi } from '../helpers/fake-openai.ts';

const messages = [{ role: 'user' as const, content: 'Hello' }];

async function collect(stream: AsyncIterable<ModelStreamPart>): Promise<ModelStreamPart[]> {
  const parts: ModelStreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

describe('OpenAI-compatible provider against a local server', () => {
  const server = new FakeOpenAi();
  before(() => server.start());
  after(() => server.stop());
  const model = (timeoutMs = 2000) => new OpenAiCompatibleModel({ baseUrl: server.baseUrl, apiKey: 'sk-test', model: 'test-model', timeoutMs });

  it('sends the model, messages, key and token limit, and reads a plain completion', async () => {
    server.enqueue({ kind: 'answer', text: 'The answer [1].' });
    assert.equal(await model().generate(messages, { maxTokens: 64 }), 'The answer [1].');
    const request = server.requests.at(-1)!;
    assert.equal(request.headers.authorization, 'Bearer sk-test');
    assert.equal(request.body.model, 'test-model');
    assert.equal(request.body.max_tokens, 64);
    assert.deepEqual(request.body.messages, messages);
  });

  it('streams text deltas and a finish part', async () => {
    server.enqueue({ kind: 'answer', text: '打印机卡纸时先关闭电源 [1]。', pieces: 4 });
    const parts = await collect(model().stream(messages, { maxTokens: 64 }));
    assert.equal(
      parts
        .filter((part) => part.type === 'text-delta')
        .map((part) => (part as { text: string }).text)
        .join(''),
      '打印机卡纸时先关闭电源 [1]。',
    );
    assert.equal(parts.filter((part) => part.type === 'text-delta').length, 4);
    assert.deepEqual(parts.at(-1), { type: 'finish', reason: 'stop' });
  });

  it('turns HTTP errors into retryable or final KbErrors', async () => {
    server.enqueue({ kind: 'status', status: 500 }, { kind: 'status', status: 401 });
    await assert.rejects(
      model().generate(messages, { maxTokens: 8 }),
      (error: unknown) => error instanceof KbError && error.code === 'KB_ERR_LLM' && error.retryable && /HTTP 500/.test(error.message),
    );
    await assert.rejects(model().generate(messages, { maxTokens: 8 }), (error: unknown) => error instanceof KbError && !error.retryable && /HTTP 401/.test(error.message));
  });

  it('times out a hanging endpoint', async () => {
    server.enqueue({ kind: 'hang' });
    const started = Date.now();
    await assert.rejects(model(1000).generate(messages, { maxTokens: 8 }), (error: unknown) => error instanceof KbError && error.code === 'KB_ERR_LLM_TIMEOUT');
    assert.ok(Date.now() - started < 5000);
    server.enqueue({ kind: 'hang' });
    const parts = await collect(model(1000).stream(messages, { maxTokens: 8 }));
    assert.equal(parts.at(-1)?.type, 'error');
  });

  it('reports malformed and truncated streams as errors after the text that did arrive', async () => {
    server.enqueue({ kind: 'malformed-stream', after: 'Partial' });
    const malformed = await collect(model().stream(messages, { maxTokens: 8 }));
    assert.deepEqual(malformed[0], { type: 'text-delta', text: 'Partial' });
    assert.equal(malformed.at(-1)?.type, 'error');
    assert.match((malformed.at(-1) as { error: KbError }).error.message, /malformed stream chunk/);
    server.enqueue({ kind: 'truncated-stream', text: 'Cut' });
    const truncated = await collect(model().stream(messages, { maxTokens: 8 }));
    assert.match((truncated.at(-1) as { error: KbError }).error.message, /ended before the answer was complete/);
  });

  it('fails clearly when nothing listens at the base URL', async () => {
    const nowhere = new OpenAiCompatibleModel({ baseUrl: 'http://127.0.0.1:9/v1', model: 'm', timeoutMs: 2000 });
    await assert.rejects(nowhere.generate(messages, { maxTokens: 8 }), (error: unknown) => error instanceof KbError && error.code === 'KB_ERR_LLM' && error.retryable);
  });
});
