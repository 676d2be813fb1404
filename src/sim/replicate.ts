import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExperimentConfig } from '../domain/config.js';
import { OfflineProvider } from '../domain/offline-model.js';
import { EventStore } from './store.js';
import { readRunData } from '../export/run-data.js';
import { buildReport, finalLikelihoods, type EffectFigures } from '../report/build.js';
import { mean, variance } from '../report/stats.js';
import { runExperiment } from './engine.js';
import { toPersonas } from '../domain/personas.js';
import { sampleUsers } from '../domain/population/sample.js';
import { DEFAULT_USERS_DIR, loadUsersDir } from '../users/load.js';
import type { Population } from './engine.js';

/** What one offline replication gives a power check or a pilot: each condition's effects. */
export interface Replication {
  seed: number;
  users: number;
  effects: EffectFigures[];
  /** Each stream's outcome moments, to build unpaired comparisons across replications. */
  arms: Array<{ stream: string; likelihood: Moments | null; turnout: Moments | null }>;
}

export interface Moments {
  mean: number;
  variance: number;
  n: number;
}

const moments = (xs: number[]): Moments | null => (xs.length < 2 ? null : { mean: mean(xs), variance: variance(xs), n: xs.length });

/**
 * The user files, read and validated once per thread: replications differ only in the seed, and
 * parsing 20,000 profiles takes longer than a small replication itself.
 */
const usersFiles = new Map<string, ReturnType<typeof loadUsersDir>>();
function population(config: ExperimentConfig): Population {
  const dir = config.users_dir ?? DEFAULT_USERS_DIR;
  let files = usersFiles.get(dir);
  if (!files) usersFiles.set(dir, (files = loadUsersDir(dir)));
  const sample = sampleUsers(files, config.n_users, config.seed);
  return { personas: toPersonas(sample.profiles, config), follows: sample.follows, source: `${dir}: ${config.n_users} users, seed ${config.seed}` };
}

/**
 * Runs `config` once with the offline model in a scratch store of its own (removed afterwards) and
 * returns its effects versus control. Used for `sim plan`'s pilot and its --check replications.
 */
export async function replicate(config: ExperimentConfig): Promise<Replication> {
  const dir = mkdtempSync(join(tmpdir(), 'sim-replication-'));
  try {
    const store = await EventStore.open(dir);
    try {
      const runId = await store.createRun({ seed: config.seed, config, codeVersion: 'replication', createdAt: '1970-01-01T00:00:00.000Z' });
      await runExperiment({ store, provider: new OfflineProvider(), config, runId, population: population(config), workers: 1 });
      const data = await readRunData(store, runId);
      // Effects need no network: spillover and heterogeneity sections are not read here.
      const report = buildReport(data, '', [], null);
      const adults = (u: number) => (data.personas.get(u)?.age ?? 0) >= 18;
      const arms = data.conditions.map((c) => ({
        stream: c.stream,
        likelihood: moments([...finalLikelihoods(c).values()]),
        turnout: moments(c.users.filter(adults).map((u) => c.counts.get(u)?.voted ?? 0)),
      }));
      return { seed: config.seed, users: report.users, effects: report.effects, arms };
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
