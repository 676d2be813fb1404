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

export function keepAliveFetch(): KeepAliveFetch {
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  const fetchImpl = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const body = init.body;
    if ((body !== undefined && body !== null && typeof body !== 'string') || input instanceof Request) return globalThis.fetch(input, init);
    const url = new URL(String(input));
    const secure = url.protocol === 'https:';
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => (headers[name] = value));
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
