import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExperimentConfig } from '../domain/config.js';
import { OfflineProvider } from '../domain/offline-model.js';
import { EventStore } from '../events/store.js';
import { readRunData } from '../export/run-data.js';
import { buildReport, type EffectFigures } from '../report/build.js';
import { runExperiment } from './engine.js';
import { loadPopulation } from './population.js';

/** What one offline replication gives a power check or a pilot: each condition's effects. */
export interface Replication {
  seed: number;
  users: number;
  effects: EffectFigures[];
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
      await runExperiment({ store, provider: new OfflineProvider(), config, runId, population: loadPopulation(config), workers: 1 });
      const data = await readRunData(store, runId);
      // Effects need no network: spillover and heterogeneity sections are not read here.
      const report = buildReport(data, '', [], null);
      return { seed: config.seed, users: report.users, effects: report.effects };
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
