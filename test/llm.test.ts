import { readdirSync, readFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../src/sim/store.js';
import { runSimAsync } from './helpers.js';
import { sqliteOf } from './helpers.js';
import { startFakeServer, type FakeServer } from './support/fake-openai-server.js';
import { writeUsersDir } from './support/users-files.js';

const KEY = 'sk-test-SECRET-0123456789';
const scratch = mkdtempSync(join(tmpdir(), 'sim-llm-'));
const users = writeUsersDir(join(scratch, 'users'), 80);
let server: FakeServer;
beforeAll(async () => {
  server = await startFakeServer({ apiKey: KEY });
});
afterAll(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

const env = { OPENAI_API_KEY: KEY };
const args = (out: string, extra: string[] = []) => ['run', '--provider', 'openai', '--base-url', server.url, '--users-dir', users, '--n-users', '60', '--seed', '4', '--conditions', 'control,treatment_soc_message', '--num-contents', '5', '--out', out, ...extra];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

// Each test runs `sim` once or twice as a child process: generous on a shared, loaded machine.
describe('sim run against an OpenAI-compatible server', { timeout: 240_000 }, () => {
  it('completes, and the same command again makes no new request (the cache answers)', async () => {
    const out = join(scratch, 'a');
    const first = await runSimAsync(args(out), { env });
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).not.toMatch(/offline persona model/);
    expect(first.stdout).toMatch(/LLM: \d+ calls/);
    const afterFirst = server.requests;
    expect(afterFirst).toBeGreaterThan(100);
    const second = await runSimAsync(args(out), { env });
    expect(second.status, second.stderr).toBe(0);
    expect(server.requests).toBe(afterFirst);
    const runs = JSON.parse((await runSimAsync(['runs', '--json', '--out', out])).stdout) as Array<{ fingerprint: string }>;
    expect(runs).toHaveLength(2);
    expect(runs[1].fingerprint).toBe(runs[0].fingerprint);
  });

  it('replays from the cache with zero requests and no key', async () => {
    const before = server.requests;
    // Two runs of seed 4 are recorded there: replay checks the one named (a seed alone would name both).
    const replay = await runSimAsync(['replay', '--seed', '4', '--run', '2', '--out', join(scratch, 'a')]);
    expect(replay.status, replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(/^identical [0-9a-f]{64} \(0 HTTP requests, \d+ cache hits\)/);
    expect(server.requests).toBe(before);
  });

  it('never writes the API key into the output directory', () => {
    for (const file of filesUnder(join(scratch, 'a'))) expect(readFileSync(file).includes(KEY), file).toBe(false);
  });

  it('completes with 20% rate limits and 10% malformed answers, reporting fallbacks', async () => {
    server.setOptions({ apiKey: KEY, faults: { rateLimit: 0.2, malformed: 0.1 } });
    const out = join(scratch, 'faults');
    const result = await runSimAsync(args(out, ['--seed', '5']), { env });
    server.setOptions({ apiKey: KEY });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/\d+ decisions fell back/);
    expect(result.stdout).toMatch(/LLM: \d+ calls, \d+ cache hits, [1-9]\d* retries/);
  });

  it('records every unusable answer as a fallback event with its reason and raw text', async () => {
    server.setOptions({ apiKey: KEY, faults: { malformed: 1 } });
    const out = join(scratch, 'broken');
    const result = await runSimAsync(['run', '--provider', 'openai', '--base-url', server.url, '--users-dir', users, '--n-users', '20', '--seed', '6', '--conditions', 'control', '--num-contents', '2', '--max-fallback-rate', '100%', '--out', out], { env });
    server.setOptions({ apiKey: KEY });
    expect(result.status, result.stderr).toBe(0);
    const store = await EventStore.open(out);
    const fellBack = await sqliteOf(store).db.selectFrom('events').select(['payload']).where('type', '=', 'DecisionFellBack').execute();
    await store.close();
    expect(fellBack.length).toBeGreaterThan(20);
    const first = JSON.parse(fellBack[0].payload);
    expect(first.reason).toMatch(/not a JSON object \(after 2 corrections\)/);
    expect(first.raw).toMatch(/Sure! Here is my answer/);
  });

  it('stops at once on a refused key, with a clear message that does not show the key', async () => {
    const result = await runSimAsync(args(join(scratch, 'badkey')), { env: { OPENAI_API_KEY: 'sk-wrong-key-98765' } });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/the API key was refused \(HTTP 401\)/);
    expect(result.stderr).not.toMatch(/sk-wrong-key-98765/);
  });

  it('falls back to JSON in text when the server rejects response_format', async () => {
    server.setOptions({ apiKey: KEY, rejectResponseFormat: true });
    const result = await runSimAsync(args(join(scratch, 'textmode'), ['--seed', '8']), { env });
    server.setOptions({ apiKey: KEY });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/0 decisions fell back/);
  });

  it('estimates calls and cost without running anything', async () => {
    const before = server.requests;
    const result = await runSimAsync(args(join(scratch, 'estimate'), ['--dry-run']), { env });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/LLM calls\s+[\d,]+/);
    expect(result.stdout).toMatch(/estimated cost\s+\$\d+\.\d\d/);
    expect(server.requests).toBe(before);
  });
});
