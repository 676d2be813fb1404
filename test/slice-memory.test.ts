import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSlice, type SliceJob } from '../src/api/job-slice.js';
import { OfflineProvider } from '../src/domain/offline-model.js';
import { runExperiment } from '../src/sim/engine.js';
import { loadPopulation } from '../src/sim/population.js';
import { EventStore } from '../src/sim/store.js';
import { StreamMemory } from '../src/sim/stream-memory.js';
import { smallConfig } from './support/population.js';

/**
 * A worker's job slot that takes its own re-enqueued job back continues from the state its last
 * slice left instead of folding the stream from the store again (src/sim/stream-memory.ts). Here
 * every slice runs one round (a slice of 0 ms still runs one), as a worker's slot would, on a
 * SQLite store whose stream reads are counted.
 */
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const config = smallConfig({ n_users: 30, run_conditions: ['control', 'treatment_soc_message'] });

async function fresh(): Promise<{ store: EventStore; runId: number; reads: () => number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sim-slice-memory-'));
  dirs.push(dir);
  const real = await EventStore.open(dir);
  let reads = 0;
  // The real store, with its stream reads (what a fold does) counted.
  const store = new Proxy(real, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown;
      if (key === 'readStream') {
        return (...args: Parameters<EventStore['readStream']>) => {
          reads += 1;
          return target.readStream(...args);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const runId = await store.createRun({ seed: config.seed, config, codeVersion: 'test', createdAt: 'now' });
  return { store, runId, reads: () => reads };
}

/**
 * Executes a run's jobs one slice at a time, as one worker slot does: a slice that ends puts its
 * job back first in line (the slot takes it back), a finished warmup queues its conditions.
 * `slotFor` names the memory each slice runs with.
 */
async function bySlices(store: EventStore, runId: number, slotFor: (slice: number) => StreamMemory | undefined): Promise<number> {
  const jobs: SliceJob[] = [{ runId, stream: 'warmup', takeover: 60 }];
  const never = new AbortController().signal;
  let slices = 0;
  while (jobs.length > 0) {
    const job = jobs.shift()!;
    const outcome = await runSlice(store, config, job, {}, { stop: never, sliceMs: 0, started: () => undefined, onProgress: () => undefined, memory: slotFor(slices++) });
    if (outcome.kind === 'interrupted') jobs.unshift(job);
    else if (outcome.kind === 'done') jobs.push(...outcome.next);
    else throw new Error(`slice ${slices}: ${outcome.kind}: ${'message' in outcome ? outcome.message : ''}`);
  }
  return slices;
}

/** The fingerprint of the run executed in one go, without slices (computed once). */
let uninterrupted: Promise<string> | null = null;
function uninterruptedFingerprint(): Promise<string> {
  return (uninterrupted ??= (async () => {
    const whole = await fresh();
    await runExperiment({ store: whole.store, provider: new OfflineProvider(), config, runId: whole.runId, population: loadPopulation(config), workers: 1 });
    const fingerprint = await whole.store.fingerprint(whole.runId);
    await whole.store.close();
    return fingerprint;
  })());
}

describe('a job slot continuing its own stream from memory', { timeout: 120_000 }, () => {
  it('folds each stream once, and ends with the fingerprint of an uninterrupted run', async () => {
    const expected = await uninterruptedFingerprint();

    const sliced = await fresh();
    const slot = new StreamMemory();
    const slices = await bySlices(sliced.store, sliced.runId, () => slot);
    // 16 warmup rounds, 2 x (the main rounds and election day): one slice each.
    expect(slices).toBeGreaterThan(40);
    expect(await sliced.store.fingerprint(sliced.runId)).toBe(expected);
    // One fold per stream, when the slot first takes it (the conditions start from the warmup's end it kept).
    expect(sliced.reads()).toBe(3);
    await sliced.store.close();

    // Without a memory every slice folds its stream, and a condition's slice the warmup too.
    const folded = await fresh();
    const again = await bySlices(folded.store, folded.runId, () => undefined);
    expect(again).toBe(slices);
    expect(folded.reads()).toBeGreaterThan(slices);
    expect(await folded.store.fingerprint(folded.runId)).toBe(expected);
    await folded.store.close();
  });

  it('folds again once another slot has continued the stream meanwhile', async () => {
    const expected = await uninterruptedFingerprint();

    const sliced = await fresh();
    const mine = new StreamMemory();
    const other = new StreamMemory();
    // The warmup's 6th slice runs in another slot: it folds the warmup (it never ran it), and the
    // first slot, whose state is now behind the stream's head, folds it again on its next slice.
    await bySlices(sliced.store, sliced.runId, (slice) => (slice === 5 ? other : mine));
    expect(sliced.reads()).toBe(5);
    expect(await sliced.store.fingerprint(sliced.runId)).toBe(expected);
    await sliced.store.close();
  });
});
