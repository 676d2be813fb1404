import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conditionRuns, electionRound, mainStartRound, WARMUP_STREAM } from '../src/domain/config.js';
import { OfflineProvider } from '../src/domain/offline-model.js';
import { streamId } from '../src/events/stream-ids.js';
import { expectedCosts, runExperiment } from '../src/sim/engine.js';
import { EventStore } from '../src/sim/store.js';
import { InterruptedError } from '../src/errors.js';
import { smallConfig, testPopulation } from './support/population.js';

/**
 * Issue 19: a resumed run deals its conditions to threads by what each has left. Interrupted in
 * the middle of its second condition, the run's pending conditions cost differently: the costs are
 * the rounds left at the warmup's average activity plus an election day, and the resumed run, its
 * conditions now in two threads, ends with the uninterrupted run's fingerprint.
 */
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const config = smallConfig({ n_users: 60, run_conditions: ['control', 'treatment_soc_message', 'experiment_info_message'] });

async function fresh(): Promise<{ store: EventStore; runId: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sim-deal-'));
  dirs.push(dir);
  const store = await EventStore.open(dir);
  const runId = await store.createRun({ seed: config.seed, config, codeVersion: 'test', createdAt: 'now' });
  return { store, runId };
}

describe('dealing a resumed run by cost', { timeout: 120_000 }, () => {
  it('costs the half-done condition by its rounds left, and resumes to the uninterrupted fingerprint', async () => {
    const whole = await fresh();
    await runExperiment({ store: whole.store, provider: new OfflineProvider(), config, runId: whole.runId, population: testPopulation(60, config), workers: 1 });
    const expected = await whole.store.fingerprint(whole.runId);
    await whole.store.close();

    // Stop before round 11 of treatment_soc_message: control done, treatment_soc at round 10, experiment_info not begun.
    const cut = await fresh();
    let stop = false;
    const interrupted = runExperiment({
      store: cut.store,
      provider: new OfflineProvider(),
      config,
      runId: cut.runId,
      population: testPopulation(60, config),
      workers: 1,
      sliceOver: () => stop,
      onProgress: (p) => {
        if (p.stream === 'treatment_soc_message' && p.round === 10) stop = true;
      },
    });
    await expect(interrupted).rejects.toBeInstanceOf(InterruptedError);

    // The warmup's average activity, read here from its RoundCompleted events.
    let rounds = 0;
    let active = 0;
    for await (const page of cut.store.readStream(streamId(cut.runId, WARMUP_STREAM))) {
      for (const e of page) {
        if (e.type !== 'RoundCompleted') continue;
        rounds += 1;
        active += (e.data as { activeAgents: number }).activeAgents;
      }
    }
    const perRound = active / rounds;
    const pending = conditionRuns(config).slice(1);
    const last = electionRound(config);
    const first = mainStartRound(config);
    expect(first).toBeLessThan(10);
    const costs = await expectedCosts({ store: cut.store, provider: new OfflineProvider(), config, runId: cut.runId, population: null }, pending, streamId(cut.runId, WARMUP_STREAM));
    // treatment_soc: rounds 11..last left; experiment_info: rounds first..last; each plus 60 votes.
    expect(costs[0]).toBeCloseTo((last - 10) * perRound + 60, 6);
    expect(costs[1]).toBeCloseTo((last - first + 1) * perRound + 60, 6);
    expect(costs[0]).toBeLessThan(costs[1]);

    await runExperiment({ store: cut.store, provider: new OfflineProvider(), config, runId: cut.runId, population: null, workers: 2 });
    expect(await cut.store.fingerprint(cut.runId)).toBe(expected);
    await cut.store.close();
  });
});
