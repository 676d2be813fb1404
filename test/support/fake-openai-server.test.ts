import { afterAll, describe, expect, it } from 'vitest';
import { startFakeServer } from './fake-openai-server.js';

describe('the fake OpenAI server', () => {
  const started = startFakeServer();
  afterAll(async () => (await started).close());

  const post = async (body: string) => {
    const server = await started;
    // A server that never answers fails the test in 5 s, not at the test timeout.
    const response = await fetch(`${server.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(5000) });
    return { status: response.status, body: (await response.json()) as { error?: { message: string }; choices?: unknown[] } };
  };

  it('answers a body that is not JSON with 400 and the reason, and goes on serving', async () => {
    const bad = await post('{"model": "gpt-4o-mini", "messages": [');
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toMatch(/^fake server: cannot answer this request: .*JSON/);

    const good = await post(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Return JSON with "voted".' }] }));
    expect(good.status).toBe(200);
    expect(good.body.choices).toHaveLength(1);
  });
});
