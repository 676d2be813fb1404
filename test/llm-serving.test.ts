import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../src/sim/store.js';
import { runSimAsync } from './helpers.js';
import { sqliteOf } from './helpers.js';
import { startFakeServer, type FakeServer } from './support/fake-openai-server.js';
import { writeUsersDir } from './support/users-files.js';

/**
 * Serving an LLM run from servers that fail: outages, several endpoints, garbage answers. Every
 * server here is a separate fake on 127.0.0.1 whose answers depend only on the request, so a run's
 * fingerprint does not depend on which server answered, or when.
 */
const KEY = 'local';
const env = { OPENAI_API_KEY: KEY };
const scratch = mkdtempSync(join(tmpdir(), 'sim-serving-'));
const users = writeUsersDir(join(scratch, 'users'), 80);
// Latency stretches the run (one round at a time) so a server can be stopped in its middle.
const LATENCY_MS = 40;

const runArgs = (urls: string[], out: string, extra: string[] = []) => [
  'run', '--provider', 'openai', ...urls.flatMap((u) => ['--base-url', u]), '--users-dir', users, '--n-users', '60', '--seed', '4',
  '--conditions', 'control,treatment_soc_message', '--num-contents', '5', '--concurrency', '4', '--out', out, ...extra,
];

async function until(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function runsOf(out: string): Promise<Array<{ id: number; status: string; fingerprint: string; fellBack: number }>> {
  const result = await runSimAsync(['runs', '--json', '--out', out]);
  return JSON.parse(result.stdout);
}

async function fallbacks(out: string): Promise<number> {
  const store = await EventStore.open(out);
  const rows = await sqliteOf(store).db.selectFrom('events').select(['payload']).where('type', '=', 'DecisionFellBack').execute();
  await store.close();
  return rows.length;
}

/** The reference: the same run against one healthy server. */
let baseline: { fingerprint: string; answered: number };
beforeAll(async () => {
  const server = await startFakeServer({ latencyMs: 5 });
  const out = join(scratch, 'baseline');
  const result = await runSimAsync(runArgs([server.url], out), { env });
  expect(result.status, result.stderr).toBe(0);
  baseline = { fingerprint: (await runsOf(out))[0].fingerprint, answered: server.answered };
  expect(server.answered).toBe(server.requests);
  expect(await fallbacks(out)).toBe(0);
  await server.close();
}, 120_000);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('an outage', () => {
  it('stops the run cleanly after --max-outage with exit code 3, and `sim resume --base-url` finishes it with the uninterrupted fingerprint', async () => {
    const server = await startFakeServer({ latencyMs: LATENCY_MS });
    const out = join(scratch, 'outage');
    const running = runSimAsync(runArgs([server.url], out, ['--max-outage', '3s']), { env });
    await until(() => server.answered > baseline.answered / 3);
    await server.close();
    const stopped = await running;
    expect(stopped.status, stopped.stderr).toBe(3);
    expect(stopped.stderr).toMatch(/the LLM server has not answered for 3s \(--max-outage 3s; last error: http:\/\/127\.0\.0\.1:\d+\/v1: .*\).*continue with `sim resume`/);
    // Nothing the server did not answer became data.
    expect(await fallbacks(out)).toBe(0);
    const [stoppedRun] = await runsOf(out);
    expect(stoppedRun.status).toBe('interrupted');

    // Resuming while the recorded server is still down is reported at once, before anything is written.
    const early = await runSimAsync(['resume', '--out', out], { env });
    expect(early.status).toBe(3);
    expect(early.stderr).toMatch(/cannot connect to the LLM server: http:\/\/127\.0\.0\.1:\d+\/v1 \(connection refused\); nothing was written/);

    // The server comes back elsewhere; the run is pointed at it.
    const again = await startFakeServer({ latencyMs: 5 });
    const resumed = await runSimAsync(['resume', '--out', out, '--base-url', again.url], { env });
    await again.close();
    expect(resumed.status, resumed.stderr).toBe(0);
    const [finished] = await runsOf(out);
    expect(finished.status).toBe('finished');
    expect(finished.fingerprint).toBe(baseline.fingerprint);
    expect(await fallbacks(out)).toBe(0);
  }, 180_000);

  it('checks a base URL before anything is written', async () => {
    const badScheme = await runSimAsync(runArgs(['ftp://127.0.0.1/v1'], join(scratch, 'bad-url')), { env });
    expect(badScheme.status).toBe(2);
    expect(badScheme.stderr).toMatch(/--base-url: "ftp:\/\/127\.0\.0\.1\/v1" is not an http\(s\) URL/);
    expect(existsSync(join(scratch, 'bad-url'))).toBe(false);

    const closed = await startFakeServer();
    await closed.close();
    const started = Date.now();
    const refused = await runSimAsync(runArgs([closed.url], join(scratch, 'refused')), { env });
    expect(refused.status).toBe(3);
    expect(refused.stderr).toMatch(/cannot connect to the LLM server: http:\/\/127\.0\.0\.1:\d+\/v1 \(connection refused\); nothing was written/);
    expect(existsSync(join(scratch, 'refused'))).toBe(false);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);
});

describe('several endpoints', () => {
  let servers: FakeServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('survive one being stopped and started again: same fingerprint as one healthy server, each request answered once', async () => {
    servers = await Promise.all([0, 1, 2].map(() => startFakeServer({ latencyMs: LATENCY_MS })));
    const [a, b, c] = servers;
    const bPort = Number(new URL(b.url).port);
    const out = join(scratch, 'three');
    const running = runSimAsync(runArgs(servers.map((s) => s.url), out), { env });
    await until(() => a.answered + b.answered + c.answered > baseline.answered / 4);
    await b.close();
    const bFirst = b.answered;
    await new Promise((r) => setTimeout(r, 1_000));
    const b2 = await startFakeServer({ latencyMs: LATENCY_MS, port: bPort });
    servers.push(b2);
    const result = await running;
    expect(result.status, result.stderr).toBe(0);
    const [run] = await runsOf(out);
    expect(run.fingerprint).toBe(baseline.fingerprint);
    // No transport failure became a fallback (a healthy server's run has none either).
    expect(await fallbacks(out)).toBe(0);
    // Each distinct request was answered once, wherever.
    expect(a.answered + bFirst + c.answered + b2.answered).toBe(baseline.answered);
    expect(bFirst).toBeGreaterThan(0);
    // The restarted server was probed and put back.
    expect(b2.answered).toBeGreaterThan(0);
    expect(Math.min(a.answered, c.answered)).toBeGreaterThan(0);
  }, 180_000);
});

describe('the fallback budget', () => {
  it('stops a run whose server answers garbage 30% of the time, naming the reasons and raw answers', async () => {
    const server = await startFakeServer({ faults: { stickyMalformed: 0.3 } });
    const out = join(scratch, 'garbage');
    const result = await runSimAsync(runArgs([server.url], out), { env });
    await server.close();
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/stream warmup: \d+ of \d+ decisions \(\d+%\) fell back, over the budget of 2\.0% \(--max-fallback-rate\)/);
    expect(result.stderr).toMatch(/most frequent reasons: the answer is not a JSON object/);
    expect(result.stderr).toMatch(/raw answers: "Sure! Here is my answer/);
    const m = /(\d+) of (\d+) decisions/.exec(result.stderr)!;
    // About 30% of the decisions fell back when it stopped.
    expect(Number(m[1]) / Number(m[2])).toBeGreaterThan(0.15);
    expect(Number(m[1]) / Number(m[2])).toBeLessThan(0.45);
  }, 120_000);
});
