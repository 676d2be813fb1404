/**
 * LLM pipeline cases, run by bench/run.ts; prints one JSON line.
 *   pipeline C N : N requests through the provider at concurrency C (calls/s vs C / latency)
 *   engine C U   : the warmup of U users through the provider (engine overhead beyond the calls)
 *   replay U C [1] : a U-user run of conditions C recorded through the server (no latency, to record
 *                  quickly), then `sim replay` of it timed as a user runs it (from the cache only,
 *                  every event compared), with its default threads and again with one (unless "1")
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { recordRun } from '../src/api/index.js';
import { parseExperiment } from '../src/domain/config.js';
import type { DecisionRequest, Provider, ProviderAnswer } from '../src/domain/decision.js';
import { EventStore } from '../src/sim/store.js';
import { LlmCache } from '../src/llm/cache.js';
import { OpenAiProvider } from '../src/llm/openai-provider.js';
import { persona } from '../test/support/world.js';
import { benchPopulation } from './population.js';

const LATENCY_MS = 200;
const [mode, a, b, c] = process.argv.slice(2);
const root = fileURLToPath(new URL('..', import.meta.url));

const latency = mode === 'replay' ? 0 : LATENCY_MS;
const server = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench', 'fake-server-process.ts'), String(latency)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve) => createInterface({ input: server.stdout! }).once('line', resolve));
const dir = mkdtempSync(join(tmpdir(), 'sim-bench-llm-'));
const provider = (store: EventStore, concurrency: number, cacheOnly = false) =>
  new OpenAiProvider({ endpoints: [{ url, apiKey: 'bench', models: null, maxConcurrency: concurrency, weight: 1 }], cache: new LlmCache(store), cacheOnly, backoffMs: 50 });

/** Wraps a provider to add up the time at least one request was in flight. */
function timed(inner: Provider): Provider & { busyMs: () => number; rounds: number[] } {
  let inFlight = 0;
  let since = 0;
  let busy = 0;
  const rounds: number[] = [];
  return {
    name: inner.name,
    offline: inner.offline,
    stats: () => inner.stats!(),
    busyMs: () => busy,
    rounds,
    async decide(request: DecisionRequest): Promise<ProviderAnswer> {
      if (inFlight++ === 0) since = performance.now();
      try {
        return await inner.decide(request);
      } finally {
        if (--inFlight === 0) busy += performance.now() - since;
      }
    },
  };
}

let result: Record<string, number>;
try {
  if (mode === 'pipeline') {
    const concurrency = Number(a);
    const n = Number(b);
    const store = await EventStore.open(dir);
    const p = provider(store, concurrency);
    const requests: DecisionRequest[] = Array.from({ length: n }, (_, i) => ({ purpose: 'vote', key: { seed: 1, agentId: i, round: 30, purpose: 'vote' }, model: 'bench-model', temperature: 0.5, persona: persona(i), lastLikelihood: 3 }));
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    await Promise.all(requests.map((r) => p.decide(r)));
    await p.close();
    const seconds = (performance.now() - t0) / 1000;
    await store.close();
    const cpu = process.cpuUsage(cpu0);
    // CPU per call is what the client costs whatever else the machine runs; calls/s is what it achieved.
    result = { wallSeconds: seconds, calls: p.stats().calls, callsPerSecond: p.stats().calls / seconds, ideal: concurrency / (LATENCY_MS / 1000), share: p.stats().calls / seconds / (concurrency / (LATENCY_MS / 1000)), cpuUsPerCall: (cpu.user + cpu.system) / p.stats().calls };
  } else if (mode === 'engine') {
    const concurrency = Number(a);
    const users = Number(b);
    const config = parseExperiment({ n_users: users, seed: 1, warmup_only: true, provider: 'openai' });
    const population = benchPopulation(config);
    let p: ReturnType<typeof timed> | undefined;
    const t0 = performance.now();
    await recordRun({ out: dir, config, population, provider: (store) => (p = timed(provider(store, concurrency))), codeVersion: 'bench' });
    if (!p) throw new Error('no provider');
    const wall = performance.now() - t0;
    result = { wallSeconds: wall / 1000, calls: p.stats!().calls, llmBusySeconds: p.busyMs() / 1000, engineShare: (wall - p.busyMs()) / wall, callsPerSecond: p.stats!().calls / (wall / 1000) };
  } else {
    const users = Number(a);
    const config = parseExperiment({ n_users: users, seed: 1, run_conditions: b.split(','), provider: 'openai', base_url: url });
    const population = benchPopulation(config);
    let live: OpenAiProvider | undefined;
    const t0 = performance.now();
    const { fingerprint } = await recordRun({ out: dir, config, population, provider: (store) => (live = provider(store, 256)), codeVersion: 'bench' });
    const recordSeconds = (performance.now() - t0) / 1000;
    if (!live) throw new Error('no provider');
    await live.close();
    // The server is gone before the replay starts: a request would fail, not be answered.
    server.kill('SIGTERM');
    // Timed as a user runs it, with the default threads (2 from 1,000 users) and with one thread.
    const replay = (extra: string[]) => {
      const t1 = performance.now();
      const out = execFileSync(process.execPath, [join(root, 'bin', 'sim.js'), 'replay', '--seed', '1', '--out', dir, ...extra], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, OPENAI_API_KEY: '' } });
      const seconds = (performance.now() - t1) / 1000;
      const m = /^identical ([0-9a-f]{64}) \((\d+) HTTP requests, (\d+) cache hits\)/.exec(out);
      return { seconds, requests: m ? Number(m[2]) : -1, cacheHits: m ? Number(m[3]) : 0, identical: m?.[1] === fingerprint };
    };
    const threaded = replay([]);
    const oneThread = c === '1' ? null : replay(['--workers', '1']);
    result = {
      wallSeconds: threaded.seconds,
      oneThreadSeconds: oneThread?.seconds ?? -1,
      recordSeconds,
      calls: live.stats().calls,
      replayRequests: threaded.requests + (oneThread?.requests ?? 0),
      cacheHits: threaded.cacheHits,
      // A decision is one cached answer found again (a turn or a vote): the replay's unit of work.
      usPerDecision: (threaded.seconds * 1e6) / Math.max(1, threaded.cacheHits),
      oneThreadUsPerDecision: oneThread ? (oneThread.seconds * 1e6) / Math.max(1, oneThread.cacheHits) : -1,
      identical: threaded.identical && (oneThread?.identical ?? true) && threaded.cacheHits === (oneThread?.cacheHits ?? threaded.cacheHits) ? 1 : 0,
    };
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  server.kill('SIGTERM');
}
process.stdout.write(`${JSON.stringify(result)}\n`);
