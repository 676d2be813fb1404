import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExperiment } from '../domain/config.js';
import { RunNotFoundError, UsageError } from '../errors.js';
import { EventStore } from '../sim/store.js';
import { chooseReplay } from './replay.js';

describe('which run `sim replay` checks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-replay-choice-'));
  let store: EventStore;
  beforeAll(async () => {
    store = await EventStore.open(dir);
    // Runs 1, 2, 3 with seeds 1, 2, 2: the latest has another seed than run 1.
    for (const seed of [1, 2, 2]) await store.createRun({ seed, config: parseExperiment({ seed, n_users: 10 }), codeVersion: 'test', createdAt: '2026-01-01T00:00:00Z' });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('checks the one run recorded with --seed, not a new run under the latest run\'s config', async () => {
    expect(await chooseReplay(store, { seed: 1 })).toEqual({ runId: 1, newSeed: null });
  });

  it('names the runs when several have the seed', async () => {
    await expect(chooseReplay(store, { seed: 2 })).rejects.toThrow(new UsageError('--seed 2: runs 2, 3 were recorded with seed 2; say which with --run'));
    expect(await chooseReplay(store, { seed: 2, run: '2' })).toEqual({ runId: 2, newSeed: null });
  });

  it('refuses a seed no run has, and a seed that is not the named run\'s, unless --new-run asks for a new run', async () => {
    await expect(chooseReplay(store, { seed: 5 })).rejects.toThrow(RunNotFoundError);
    await expect(chooseReplay(store, { seed: 5 })).rejects.toThrow(/^--seed 5: no run in .* was recorded with seed 5 \(run 1 seed 1, run 2 seed 2, run 3 seed 2\); to run the latest run's config under seed 5 as a new run, add --new-run$/);
    await expect(chooseReplay(store, { seed: 2, run: '1' })).rejects.toThrow('--seed 2: run 1 was recorded with seed 1; to check it, drop --seed; to run its config under seed 2 as a new run, add --new-run');
    expect(await chooseReplay(store, { seed: 5, newRun: true })).toEqual({ runId: 3, newSeed: 5 });
    expect(await chooseReplay(store, { seed: 5, run: '1', newRun: true })).toEqual({ runId: 1, newSeed: 5 });
  });

  it('refuses --new-run without a seed or with the run\'s own seed; without --seed checks the latest run', async () => {
    await expect(chooseReplay(store, { newRun: true })).rejects.toThrow("--new-run: give the new run's --seed");
    await expect(chooseReplay(store, { seed: 1, run: '1', newRun: true })).rejects.toThrow('--new-run: run 1 was recorded with seed 1 already');
    await expect(chooseReplay(store, { seed: 2, newRun: true })).rejects.toThrow('--new-run: run 3 was recorded with seed 2 already');
    expect(await chooseReplay(store, {})).toEqual({ runId: 3, newSeed: null });
    expect(await chooseReplay(store, { run: '1' })).toEqual({ runId: 1, newSeed: null });
  });
});
