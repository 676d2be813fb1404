/** One engine benchmark case, run in its own process by bench/run.ts; prints one JSON line. */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { recordRun } from '../src/api/index.js';
import { parseExperiment } from '../src/domain/config.js';
import { OfflineProvider } from '../src/domain/offline-model.js';
import { benchPopulation } from './population.js';

/** The store is DIR/sim.db, or the PostgreSQL database named by a fifth argument. */
const [usersArg, conditions, workersArg, dir, storeUrl] = process.argv.slice(2);
const users = Number(usersArg);
let peakRss = 0;
const sample = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
const timer = setInterval(sample, 200);

const config = parseExperiment({ n_users: users, seed: 1, run_conditions: conditions.split(',') });
const started = performance.now();
const population = benchPopulation(config);
const populationSeconds = (performance.now() - started) / 1000;
const stages: Record<string, number> = {};
let turns = 0;
let last = performance.now();
const t0 = performance.now();
// What `sim run` does (its run log included), with the population made here.
const run = await recordRun(
  { out: dir, store: storeUrl, config, population, provider: () => new OfflineProvider(), workers: Number(workersArg), codeVersion: 'bench' },
  {
    onProgress: (p) => {
      const now = performance.now();
      const key = p.stage === 'warmup' ? 'warmup' : p.stage === 'election' ? 'election' : 'conditions';
      stages[key] = (stages[key] ?? 0) + (now - last) / 1000;
      last = now;
      if (p.stage !== 'election') turns += p.activeAgents;
      sample();
    },
  },
);
const wallSeconds = (performance.now() - t0) / 1000;
clearInterval(timer);
sample();
process.stdout.write(
  `${JSON.stringify({
    wallSeconds,
    populationSeconds,
    warmupSeconds: stages.warmup ?? 0,
    conditionSeconds: stages.conditions ?? 0,
    electionSeconds: stages.election ?? 0,
    turns,
    events: run.events,
    peakRssMb: Math.round(peakRss / 2 ** 20),
    dbMb: storeUrl ? null : Math.round(statSync(join(dir, 'sim.db')).size / 2 ** 20),
    store: storeUrl ? 'postgres' : 'sqlite',
  })}\n`,
);
