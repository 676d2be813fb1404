import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OpenAI-compatible chat completions server on 127.0.0.1, for tests and the benchmark. Answers
 * are valid decision JSON derived from the request (so the same request gets the same answer);
 * latency and faults can be switched on. Faults are decided by a hash of the request body and how
 * many times that body was seen, so they do not depend on arrival order.
 */
export interface FakeFaults {
  /** Shares of requests answered with each fault. */
  rateLimit?: number;
  serverError?: number;
  malformed?: number;
  /** Share of requests (by their first question) answered with garbage every time, corrections included. */
  stickyMalformed?: number;
  outOfRange?: number;
  truncated?: number;
  hang?: number;
  drop?: number;
}

export interface FakeServerOptions {
  latencyMs?: number;
  faults?: FakeFaults;
  rejectResponseFormat?: boolean;
  /** When set, requests must carry this key. */
  apiKey?: string;
  /** When set, other models get 404. */
  models?: string[];
  /** retry-after seconds sent with 429s. */
  retryAfterSeconds?: number;
  /** Listen on this port (0: any free one); a test restarts a stopped server on its old port. */
  port?: number;
  /**
   * The server never gets faults: it neither keeps the bodies it saw nor hashes them for fault draws
   * (the bench's server, at hundreds of requests a second). The answers are the same.
   */
  neverFaults?: boolean;
}

export interface FakeServer {
  url: string;
  readonly requests: number;
  /** Requests answered with 200 on a connection that was still open. */
  readonly answered: number;
  readonly maxInFlight: number;
  readonly authorizations: Set<string>;
  setOptions(options: FakeServerOptions): void;
  close(): Promise<void>;
}

export async function startFakeServer(initial: FakeServerOptions = {}): Promise<FakeServer> {
  let options = initial;
  let requests = 0;
  let answered = 0;
  let closed = false;
  let inFlight = 0;
  let maxInFlight = 0;
  const seenBodies = new Map<string, number>();
  const authorizations = new Set<string>();
  const sockets = new Set<import('node:net').Socket>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    requests += 1;
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      const text = await readBody(req);
      authorizations.add(String(req.headers.authorization ?? ''));
      if (options.latencyMs) await sleep(options.latencyMs);
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) return json(res, 404, { error: { message: `no route ${req.url}` } });
      if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) return json(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } });
      const body = JSON.parse(text) as { model: string; messages: Array<{ role: string; content: string }>; response_format?: unknown; max_tokens?: number };
      if (options.models && !options.models.includes(body.model)) return json(res, 404, { error: { message: `The model ${body.model} does not exist` } });
      if (options.rejectResponseFormat && body.response_format) return json(res, 400, { error: { message: 'response_format is not supported by this server' } });

      const f = options.faults ?? {};
      // Faults are drawn from the body and how often it was seen (a server that never has faults keeps no bodies).
      let u = 1;
      if (!options.neverFaults) {
        const seen = (seenBodies.get(text) ?? 0) + 1;
        seenBodies.set(text, seen);
        u = unit(`${text}#${seen}`);
      }
      let edge = 0;
      const hit = (share: number | undefined) => u < (edge += share ?? 0) && u >= edge - (share ?? 0);
      if (hit(f.rateLimit)) {
        res.setHeader('retry-after', String(options.retryAfterSeconds ?? 0));
        return json(res, 429, { error: { message: 'Rate limit reached', type: 'rate_limit_exceeded' } });
      }
      if (hit(f.serverError)) return json(res, 500, { error: { message: 'internal error' } });
      if (hit(f.hang)) return; // never answers: the client times out
      if (hit(f.drop)) {
        req.socket.destroy();
        return;
      }
      const answer = answerFor(body.messages, unit(text));
      let content = JSON.stringify(answer);
      let finish = 'stop';
      const sticky = f.stickyMalformed !== undefined && unit(`sticky:${JSON.stringify(body.messages.slice(0, 2))}`) < f.stickyMalformed;
      if (sticky || hit(f.malformed)) content = `Sure! Here is my answer: {"engagement": [oops`;
      else if (hit(f.outOfRange)) content = JSON.stringify({ ...answer, voting_likelihood: 7, voted: 3 });
      else if (hit(f.truncated)) {
        content = content.slice(0, Math.floor(content.length / 2));
        finish = 'length';
      }
      const prompt = body.messages.reduce((n, m) => n + m.content.length, 0);
      if (closed || req.socket.destroyed) return;
      answered += 1;
      return json(res, 200, {
        id: `chatcmpl-${requests}`,
        object: 'chat.completion',
        created: 0,
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finish }],
        usage: { prompt_tokens: Math.ceil(prompt / 4), completion_tokens: Math.ceil(content.length / 4), total_tokens: Math.ceil(prompt / 4) + Math.ceil(content.length / 4), prompt_tokens_details: { cached_tokens: 0 } },
      });
    } finally {
      inFlight -= 1;
    }
  };
  // A request the server cannot read or parse is answered 400 with the reason, as a real server
  // would, instead of leaving the client waiting and the test process with an unhandled rejection.
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const message = `fake server: cannot answer this request: ${error instanceof Error ? error.message : String(error)}`;
      if (!res.headersSent && !req.socket.destroyed) json(res, 400, { error: { message, type: 'invalid_request_error' } });
      else res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(initial.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return requests;
    },
    get answered() {
      return answered;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    authorizations,
    setOptions(next) {
      if (options.neverFaults && next.faults) throw new Error('fake server: started with neverFaults, it cannot be given faults');
      options = { ...next, neverFaults: options.neverFaults };
    },
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A valid answer for the prompt's purpose, drawn from a hash of the request. */
function answerFor(messages: Array<{ role: string; content: string }>, u: number): Record<string, unknown> {
  // The purpose is read from the system message and the first question, not from corrections.
  const all = messages.slice(0, 2).map((m) => m.content).join('\n');
  const user = all;
  if (all.includes('"content"')) return { content: `A thought on today's topic (${Math.floor(u * 1000)}).` };
  if (all.includes('"voted"')) return { voted: u < 0.6 ? 1 : 0 };
  const posts = [...all.matchAll(/^Post (\d+) \(/gm)].map((m) => Number(m[1]));
  const numbers = [...new Set(posts)];
  const picked = new Map<number, number>();
  const pick = (i: number) => {
    let p = picked.get(i);
    if (p === undefined) picked.set(i, (p = unit(`${u}:${i}`)));
    return p;
  };
  const answer: Record<string, unknown> = {
    engagement: numbers.map((n, i) => ({
      post_number: n,
      engage: pick(i) < 0.2 ? 'like' : pick(i) < 0.23 ? 'reply' : 'nothing',
      reply_text: pick(i) >= 0.2 && pick(i) < 0.23 ? 'Interesting point.' : null,
      follow_action: pick(i + 100) < 0.03 ? 'follow' : 'no_change',
    })),
    next_activity_time: 1 + Math.floor(pick(7) * 5),
  };
  if (user.includes('"generated_content"') || all.includes('"generated_content"')) answer.generated_content = 'Talking about the election with friends today.';
  if (all.includes('"voting_likelihood"')) answer.voting_likelihood = Math.min(4, Math.floor(pick(9) * 5));
  return answer;
}

function unit(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
