import { readAll, sqliteOf } from './helpers.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentConfig } from '../src/domain/config.js';
import { OfflineProvider } from '../src/domain/offline-model.js';
import type { World } from '../src/domain/world.js';
import { EventStore } from '../src/sim/store.js';
import { streamId } from '../src/events/stream-ids.js';
import { rebuildProjections } from '../src/projections/rebuild.js';
import { runExperiment } from '../src/sim/engine.js';
import { foldStream } from '../src/events/fold.js';
import { worldFold } from '../src/domain/evolve.js';
import { smallConfig, testPopulation } from './support/population.js';
import { emptyWorld } from '../src/domain/world.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function simulate(config: ExperimentConfig, n = config.n_users) {
  const dir = mkdtempSync(join(tmpdir(), 'sim-engine-'));
  dirs.push(dir);
  const store = await EventStore.open(dir);
  const runId = await store.createRun({ seed: config.seed, config, codeVersion: 'test', createdAt: 'now' });
  const live = new Map<string, World>();
  await runExperiment({ store, provider: new OfflineProvider(), config, runId, population: testPopulation(n, config), onStreamEnd: (s, w) => live.set(s, w) });
  return { store, runId, live };
}

const config = smallConfig({ n_users: 60, run_conditions: ['control', 'treatment_soc_message', 'experiment_info_message'] });
let run: Awaited<ReturnType<typeof simulate>>;
beforeAll(async () => {
  run = await simulate(config);
});
afterAll(async () => run.store.close());

const rowsOf = async (store: EventStore) => ({
  agents: await sqliteOf(store).db.selectFrom('proj_agents').selectAll().orderBy('stream_id').orderBy('agent_id').execute(),
  rounds: await sqliteOf(store).db.selectFrom('proj_agent_rounds').selectAll().orderBy('stream_id').orderBy('agent_id').orderBy('round').execute(),
  treatment: await sqliteOf(store).db.selectFrom('proj_treatment').selectAll().orderBy('stream_id').orderBy('agent_id').orderBy('period').execute(),
  personas: await sqliteOf(store).db.selectFrom('proj_personas').selectAll().orderBy('agent_id').execute(),
});

describe('a simulated experiment', () => {
  it('records the warmup and one stream per condition, each finished, with an intact hash chain', async () => {
    const streams = await run.store.runStreams(run.runId);
    expect(streams.map((s) => s.name)).toEqual(['control', 'experiment_info_message', 'treatment_soc_message', 'warmup']);
    for (const s of streams) expect(await run.store.lastEventType(s.streamId)).toBe('StageCompleted');
    await expect(run.store.verifyStreams((await run.store.runStreams(run.runId)).map((s) => s.streamId))).resolves.toMatchObject({ streams: 4 });
  });

  it('folds, from the events alone, exactly the state the live run reached', async () => {
    const warmup = (await foldStream(run.store, emptyWorld(), streamId(run.runId, 'warmup'), worldFold)).state;
    expect(warmup).toEqual(run.live.get('warmup'));
    for (const name of ['control', 'treatment_soc_message', 'experiment_info_message']) {
      expect((await foldStream(run.store, warmup, streamId(run.runId, name), worldFold)).state).toEqual(run.live.get(name));
    }
  });

  it('rebuilds projections from events equal to the live ones', async () => {
    const live = await rowsOf(run.store);
    expect(live.rounds.length).toBeGreaterThan(100);
    await rebuildProjections(run.store, run.runId, await run.store.runStreams(run.runId));
    expect(await rowsOf(run.store)).toEqual(live);
  });

  it('never asks minors about voting, never treats them, and they do not vote', async () => {
    const minors = new Set(Object.values(run.live.get('warmup')!.personas).filter((p) => p.age < 18).map((p) => p.id));
    expect(minors.size).toBeGreaterThan(0);
    for (const s of await run.store.runStreams(run.runId)) {
      for (const e of await readAll(run.store, s.streamId)) {
        if (e.type === 'VotingIntentionStated' || e.type === 'TreatmentMessageShown') expect(minors.has(e.meta.agentId!)).toBe(false);
        if (e.type === 'TreatmentAssigned') expect(e.data.treatedIds.some((id) => minors.has(id))).toBe(false);
        if (e.type === 'VoteCast' && minors.has(e.meta.agentId!)) expect(e.data.voted).toBe(false);
      }
    }
  });

  it('treats every adult in every period of a full-treatment condition, and nobody in control', async () => {
    const adults = Object.values(run.live.get('warmup')!.personas).filter((p) => p.age >= 18).length;
    const treated = async (stream: string) =>
      (await readAll(run.store, streamId(run.runId, stream))).filter((e) => e.type === 'TreatmentAssigned').map((e) => (e.data as { treatedIds: number[] }).treatedIds.length);
    expect(await treated('treatment_soc_message')).toEqual([adults, adults, adults, adults]);
    expect(await treated('control')).toEqual([0, 0, 0, 0]);
  });

  it('acts only in each agent\'s scheduled round', async () => {
    const next = new Map<number, number>();
    for (const e of await readAll(run.store, streamId(run.runId, 'warmup'))) {
      if (e.type === 'NextActivityScheduled') next.set(e.meta.agentId!, e.data.nextRound);
      if (e.type === 'FeedServed') expect(next.get(e.meta.agentId!)).toBe(e.meta.round);
    }
  });

  it('is deterministic: the same seed gives the same fingerprint, another seed another one', async () => {
    const again = await simulate(config);
    expect(await again.store.fingerprint(again.runId)).toBe(await run.store.fingerprint(run.runId));
    const other = await simulate({ ...config, seed: config.seed + 1 });
    expect(await other.store.fingerprint(other.runId)).not.toBe(await run.store.fingerprint(run.runId));
    await again.store.close();
    await other.store.close();
  });
});

describe('large populations', () => {
  it('are recorded in parts that fold to the same world as one event', async () => {
    const { persona } = await import('./support/world.js');
    const { populationEvents } = await import('../src/sim/engine.js');
    const { evolveAll } = await import('../src/domain/evolve.js');
    const { makeEvent } = await import('../src/domain/events.js');
    const personas = Array.from({ length: 12_000 }, (_, i) => persona(11_999 - i));
    const follows: Array<[number, number]> = Array.from({ length: 24_000 }, (_, i) => [i % 12_000, (i * 7 + 1) % 12_000] as [number, number]).filter(([s, t]) => s !== t);
    const parts = populationEvents({ personas, follows, source: 's' }, -16);
    expect(parts.map((e) => (e.data as { part?: number }).part)).toEqual([1, 2, 3, 4]);
    const whole = evolveAll(emptyWorld(), [makeEvent('PopulationLoaded', { source: 's', agents: personas, follows }, -16)]);
    expect(evolveAll(emptyWorld(), parts)).toEqual(whole);
    expect(evolveAll(evolveAll(emptyWorld(), parts.slice(0, 2)), parts.slice(2))).toEqual(whole);
    expect(whole.agentIds.slice(0, 3)).toEqual([0, 1, 2]);
  });
});
