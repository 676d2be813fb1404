import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayRun, type ExactReplay } from '../src/api/replay.js';
import { CacheMissError } from '../src/errors.js';
import { EventStore } from '../src/sim/store.js';
import { runSimAsync, sqliteOf } from './helpers.js';
import { startFakeServer, type FakeServer } from './support/fake-openai-server.js';
import { writeUsersDir } from './support/users-files.js';

/**
 * Issue 19: an exact replay makes no HTTP request, so its conditions run in worker threads even for
 * an LLM run. Whatever the number of threads (and whichever ends first), the replay re-creates the
 * recorded events exactly, and a cache miss fails with the error the one-thread replay gives.
 */
const KEY = 'sk-test-replay-threads';
const scratch = mkdtempSync(join(tmpdir(), 'sim-replay-threads-'));
const users = writeUsersDir(join(scratch, 'users'), 50);
const recorded = join(scratch, 'recorded');
let server: FakeServer;
let fingerprint = '';

beforeAll(async () => {
  server = await startFakeServer({ apiKey: KEY });
  const run = await runSimAsync(
    ['run', '--provider', 'openai', '--base-url', server.url, '--users-dir', users, '--n-users', '40', '--seed', '7', '--conditions', 'control,treatment_soc_message,experiment_soc_message', '--num-contents', '4', '--out', recorded],
    { env: { OPENAI_API_KEY: KEY } },
  );
  expect(run.status, run.stderr).toBe(0);
  fingerprint = /fingerprint ([0-9a-f]{64})/.exec(run.stdout)![1];
}, 240_000);

afterAll(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** The fingerprint of the replayed run in a kept scratch copy. */
async function replayedFingerprint(replay: ExactReplay): Promise<string> {
  const store = await EventStore.open(replay.scratchDir);
  try {
    return await store.fingerprint(1);
  } finally {
    await store.close();
    rmSync(replay.scratchDir, { recursive: true, force: true });
  }
}

describe('exact replay in worker threads', { timeout: 240_000 }, () => {
  it('gives the recorded events with 1, 2 and 3 threads, with no HTTP request and the same totals', async () => {
    const requestsBefore = server.requests;
    const results: ExactReplay[] = [];
    for (const workers of [1, 2, 3]) {
      const replay = await replayRun({ seed: 7, out: recorded, workers, keep: true });
      expect(replay.kind).toBe('exact');
      results.push(replay as ExactReplay);
    }
    expect(server.requests).toBe(requestsBefore);
    for (const replay of results) {
      expect(replay.divergence).toBeNull();
      expect(replay.fingerprint).toBe(fingerprint);
      expect(replay.stats?.calls).toBe(0);
      expect(await replayedFingerprint(replay)).toBe(fingerprint);
    }
    // Every decision was answered from the cache: as many hits with threads as without.
    expect(results[0].stats!.cacheHits).toBeGreaterThan(500);
    expect(results[1].stats!.cacheHits).toBe(results[0].stats!.cacheHits);
    expect(results[2].stats!.cacheHits).toBe(results[0].stats!.cacheHits);
  });

  it('reports the divergence the one-thread replay reports: the first in stream-name order, whichever thread finds it', async () => {
    // A copy whose recording was edited in two conditions (hash left alone): round 5's RoundCompleted
    // of treatment_soc_message and round 20's of experiment_soc_message. In name order
    // (warmup, control, experiment_soc_message, treatment_soc_message) the second comes first.
    const edited = join(scratch, 'tampered');
    cpSync(recorded, edited, { recursive: true });
    const store = await EventStore.open(edited);
    const { db } = sqliteOf(store);
    for (const [name, round] of [['treatment_soc_message', 5], ['experiment_soc_message', 20]] as const) {
      const { streamId } = (await store.runStreams(1)).find((s) => s.name === name)!;
      const changed = await db.updateTable('events').set({ payload: '{"activeAgents":999,"fellBack":0}' }).where('stream_id', '=', streamId).where('type', '=', 'RoundCompleted').where('round', '=', round).executeTakeFirst();
      expect(Number(changed.numUpdatedRows)).toBe(1);
    }
    await store.close();
    const divergences = [];
    for (const workers of [1, 2, 3]) {
      const replay = (await replayRun({ seed: 7, out: edited, workers })) as ExactReplay;
      divergences.push(replay.divergence);
    }
    expect(divergences[0]).toMatchObject({ stream: 'experiment_soc_message', round: 20, agentId: null, type: { expected: 'RoundCompleted', actual: 'RoundCompleted' }, payload: { expected: '{"activeAgents":999,"fellBack":0}' } });
    expect(divergences[1]).toEqual(divergences[0]);
    expect(divergences[2]).toEqual(divergences[0]);
  });

  it('names a divergence in the warmup before any in a condition: each condition forks from the warmup\'s end', async () => {
    // A real divergence in the warmup shows again in every condition; here the warmup's round -5 and
    // control's round 20 are edited (hash left alone). Name order alone would name control.
    const edited = join(scratch, 'tampered-warmup');
    cpSync(recorded, edited, { recursive: true });
    const store = await EventStore.open(edited);
    const { db } = sqliteOf(store);
    for (const [name, round] of [['warmup', -5], ['control', 20]] as const) {
      const { streamId } = (await store.runStreams(1)).find((s) => s.name === name)!;
      const changed = await db.updateTable('events').set({ payload: '{"activeAgents":999,"fellBack":0}' }).where('stream_id', '=', streamId).where('type', '=', 'RoundCompleted').where('round', '=', round).executeTakeFirst();
      expect(Number(changed.numUpdatedRows)).toBe(1);
    }
    await store.close();
    for (const workers of [1, 2]) {
      const replay = (await replayRun({ seed: 7, out: edited, workers })) as ExactReplay;
      expect(replay.divergence).toMatchObject({ stream: 'warmup', round: -5, type: { expected: 'RoundCompleted', actual: 'RoundCompleted' } });
    }
  });

  it('on cache misses fails as the one-thread replay does: the first miss of the earliest condition', async () => {
    // A copy whose stored config adds two conditions that were never recorded: their treated agents'
    // prompts carry the info message, which the cache never saw. In order: control,
    // control_then_info (treats from the last period: misses late, in round 30), treatment_soc,
    // treatment_info (misses in round 1, early).
    const edited = join(scratch, 'edited');
    cpSync(recorded, edited, { recursive: true });
    const store = await EventStore.open(edited);
    const { db } = sqliteOf(store);
    const row = await db.selectFrom('runs').select(['config']).where('id', '=', 1).executeTakeFirstOrThrow();
    const config = JSON.parse(row.config) as { run_conditions: string[] };
    config.run_conditions = ['control', 'control_then_info', 'treatment_soc_message', 'treatment_info_message'];
    await db.updateTable('runs').set({ config: JSON.stringify(config) }).where('id', '=', 1).execute();
    await store.close();

    const failure = async (workers: number): Promise<CacheMissError> => {
      const error = await replayRun({ seed: 7, out: edited, workers }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CacheMissError);
      return error as CacheMissError;
    };
    const oneThread = await failure(1);
    expect(oneThread.message).toMatch(/^--cache-only: no cached answer for agent \d+, round 30 \(\w+\)/);
    expect(oneThread.request.round).toBe(30);
    // 2 threads: [control, treatment_soc] and [control_then_info, treatment_info]; 4 threads: one
    // each, so treatment_info's miss (round 1) comes long before control_then_info's (round 30).
    for (const workers of [2, 4]) {
      const threaded = await failure(workers);
      expect(threaded.message).toBe(oneThread.message);
      expect(threaded.request).toEqual(oneThread.request);
    }
  });
});
