import http from 'node:http';
import https from 'node:https';

/**
 * A fetch for the openai client over node:http with keep-alive sockets. The global fetch (undici
 * with web streams) cost most of the client's CPU per call at hundreds of calls per second
 * (docs/performance.md); the client, its errors and retries are unchanged, only the transport is.
 * Bodies the client sends are strings; anything else goes to the global fetch.
 */
export interface KeepAliveFetch {
  fetch: typeof fetch;
  close(): void;
}

const NO_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * The headers of an answer, read-only, as the client reads them (get, has, entries, iteration).
 * Node's http parser already gave them lower-cased and checked.
 */
class AnswerHeaders {
  private readonly map = new Map<string, string>();
  constructor(raw: http.IncomingHttpHeaders) {
    for (const name in raw) {
      const value = raw[name];
      if (value !== undefined) this.map.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
  }
  get(name: string): string | null {
    return this.map.get(name.toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }
  forEach(callback: (value: string, name: string, headers: AnswerHeaders) => void): void {
    for (const [name, value] of this.map) callback(value, name, this);
  }
  entries(): IterableIterator<[string, string]> {
    return this.map.entries();
  }
  keys(): IterableIterator<string> {
    return this.map.keys();
  }
  values(): IterableIterator<string> {
    return this.map.values();
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.map.entries();
  }
}

/**
 * A successful answer (2xx with a body) as the openai client reads it: status, headers, json() or
 * text(). Building the global Response (web streams, header validation) for each of hundreds of
 * answers a second cost a visible share of a worker's CPU; errors (non-2xx) still get a real
 * Response, since the client's errors carry its headers.
 */
class AnsweredResponse {
  readonly ok = true;
  readonly redirected = false;
  readonly type = 'basic';
  readonly headers: AnswerHeaders;
  bodyUsed = false;
  constructor(
    readonly url: string,
    readonly status: number,
    readonly statusText: string,
    raw: http.IncomingHttpHeaders,
    private readonly bytes: Buffer,
  ) {
    this.headers = new AnswerHeaders(raw);
  }
  /** Only a streamed read needs the body as a stream; sim never streams. */
  get body(): ReadableStream<Uint8Array> {
    return new Response(new Uint8Array(this.bytes)).body!;
  }
  async text(): Promise<string> {
    this.bodyUsed = true;
    return this.bytes.toString('utf8');
  }
  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    this.bodyUsed = true;
    return this.bytes.buffer.slice(this.bytes.byteOffset, this.bytes.byteOffset + this.bytes.byteLength) as ArrayBuffer;
  }
  clone(): AnsweredResponse {
    return new AnsweredResponse(this.url, this.status, this.statusText, Object.fromEntries(this.headers.entries()), this.bytes);
  }
}

export function keepAliveFetch(): KeepAliveFetch {
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  const fetchImpl = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const body = init.body;
    if ((body !== undefined && body !== null && typeof body !== 'string') || input instanceof Request) return globalThis.fetch(input, init);
    const url = new URL(String(input));
    const secure = url.protocol === 'https:';
    const headers: Record<string, string> = {};
    // The client passes a Headers: read it as it is (copying it validates every name and value again).
    (init.headers instanceof Headers ? init.headers : new Headers(init.headers)).forEach((value, name) => (headers[name] = value));
    if (typeof body === 'string') headers['content-length'] = String(Buffer.byteLength(body));
    return new Promise<Response>((resolve, reject) => {
      const request = (secure ? https : http).request(
        url,
        { method: init.method ?? 'GET', headers, agent: secure ? agents.https : agents.http, signal: init.signal ?? undefined },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300 && !NO_BODY.has(status)) {
              resolve(new AnsweredResponse(String(url), status, res.statusMessage ?? '', res.headers, Buffer.concat(chunks)) as unknown as Response);
              return;
            }
            const responseHeaders = new Headers();
            for (const [name, value] of Object.entries(res.headers)) {
              if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
            }
            resolve(new Response(NO_BODY.has(status) ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage, headers: responseHeaders }));
          });
        },
      );
      request.on('error', reject);
      request.end(body ?? undefined);
    });
  };
  return {
    fetch: fetchImpl as typeof fetch,
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
