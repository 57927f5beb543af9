// A local HTTP server that speaks the OpenAI chat-completions protocol (JSON and server-sent events), with scripted
// behaviours for failure tests: HTTP errors, hangs, malformed and truncated streams.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Behaviour =
  | { kind: 'answer'; text: string; pieces?: number; delayMs?: number }
  | { kind: 'status'; status: number }
  | { kind: 'hang' }
  | { kind: 'malformed-stream'; after: string }
  | { kind: 'truncated-stream'; text: string };

export interface RecordedRequest {
  headers: IncomingMessage['headers'];
  body: { model: string; stream?: boolean; messages: { role: string; content: string }[]; max_tokens?: number };
}

export class FakeOpenAi {
  readonly requests: RecordedRequest[] = [];
  private readonly script: Behaviour[] = [];
  private fallback: Behaviour = { kind: 'answer', text: 'Default answer [1].' };
  private server!: Server;
  baseUrl = '';

  /** Behaviours for the next requests, in order; afterwards the fallback. */
  enqueue(...behaviours: Behaviour[]): void {
    this.script.push(...behaviours);
  }

  always(behaviour: Behaviour): void {
    this.fallback = behaviour;
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      let raw = '';
      request.on('data', (part: Buffer) => (raw += part.toString('utf8')));
      request.on('end', () => {
        if (request.method !== 'POST' || request.url !== '/v1/chat/completions') {
          response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found' } }));
          return;
        }
        const body = JSON.parse(raw) as RecordedRequest['body'];
        this.requests.push({ headers: request.headers, body });
        const behaviour = this.script.shift() ?? this.fallback;
        this.respond(behaviour, body.stream === true, response);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  private respond(behaviour: Behaviour, stream: boolean, response: import('node:http').ServerResponse): void {
    const chunk = (content: string | undefined, finish: string | null) =>
      `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: content === undefined ? {} : { content }, finish_reason: finish }] })}\n\n`;
    switch (behaviour.kind) {
      case 'status':
        response.writeHead(behaviour.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `scripted ${behaviour.status}` } }));
        return;
      case 'hang':
        return; // never answers; the client's timeout must fire
      case 'answer': {
        if (!stream) {
          response
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ id: 'c1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: behaviour.text }, finish_reason: 'stop' }] }));
          return;
        }
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        const size = Math.max(1, Math.ceil(behaviour.text.length / (behaviour.pieces ?? 5)));
        const pieces: string[] = [];
        for (let start = 0; start < behaviour.text.length; start += size) pieces.push(behaviour.text.slice(start, start + size));
        const finish = () => {
          response.write(chunk(undefined, 'stop'));
          response.end('data: [DONE]\n\n');
        };
        if (!behaviour.delayMs) {
          for (const piece of pieces) response.write(chunk(piece, null));
          finish();
          return;
        }
        // Paced like a real model, so that a client can be seen rendering the answer as it arrives.
        const next = () => {
          const piece = pieces.shift();
          if (piece === undefined) return finish();
          response.write(chunk(piece, null));
          setTimeout(next, behaviour.delayMs);
        };
        next();
        return;
      }
      case 'malformed-stream':
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write(chunk(behaviour.after, null));
        response.end('data: {not json\n\n');
        return;
      case 'truncated-stream':
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write(chunk(behaviour.text, null));
        response.end(); // no finish_reason, no [DONE]
        return;
    }
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
