/**
 * Records a U-user LLM run of conditions C through the fake server (no latency) into DIR and keeps
 * it, so `sim replay --seed 1 --out DIR` can be timed again and again without recording each time.
 *   npx tsx bench/record-llm-run.ts DIR U C
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { recordRun } from '../src/api/index.js';
import { parseExperiment } from '../src/domain/config.js';
import { LlmCache } from '../src/llm/cache.js';
import { OpenAiProvider } from '../src/llm/openai-provider.js';
import { benchPopulation } from './population.js';

const [dir, users, conditions] = process.argv.slice(2);
const root = fileURLToPath(new URL('..', import.meta.url));
const server = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench', 'fake-server-process.ts'), '0'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve) => createInterface({ input: server.stdout! }).once('line', resolve));
try {
  mkdirSync(dir, { recursive: true });
  const config = parseExperiment({ n_users: Number(users), seed: 1, run_conditions: conditions.split(','), provider: 'openai', base_url: url });
  const t0 = performance.now();
  let live: OpenAiProvider | undefined;
  const { fingerprint } = await recordRun({
    out: dir,
    config,
    population: benchPopulation(config),
    provider: (store) => (live = new OpenAiProvider({ endpoints: [{ url, apiKey: 'bench', models: null, maxConcurrency: 256, weight: 1 }], cache: new LlmCache(store), backoffMs: 50 })),
    codeVersion: 'bench',
  });
  await live?.close();
  process.stdout.write(`${JSON.stringify({ fingerprint, calls: live?.stats().calls, recordSeconds: (performance.now() - t0) / 1000 })}\n`);
} finally {
  server.kill('SIGTERM');
}
