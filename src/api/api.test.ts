import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeUsersDir } from '../../test/support/users-files.js';
import { RunNotFoundError, UsageError } from '../errors.js';
import { EventStore } from '../sim/store.js';
import { estimateRun, listRuns, replayRun, resumeRun, startRun, userHistory, type ProgressEvent, type RunResult, type RunStart } from './index.js';

/** The API as a program uses it: options in, data out, progress through hooks, nothing printed. */
describe('the API', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-api-'));
  const out = join(dir, 'out');
  const options = { out, usersDir: writeUsersDir(join(dir, 'users'), 60), nUsers: 40, seed: 4, conditions: 'control,experiment_soc_message', provider: 'offline' };
  let start: RunStart | undefined;
  const progress: ProgressEvent[] = [];
  let result: RunResult;
  let written: string[];
  beforeAll(async () => {
    const stdout = vi.spyOn(process.stdout, 'write');
    const stderr = vi.spyOn(process.stderr, 'write');
    try {
      result = await startRun(options, { onStart: (s) => (start = s), onProgress: (p) => progress.push(p) });
    } finally {
      written = [...stdout.mock.calls, ...stderr.mock.calls].map((c) => String(c[0]));
      stdout.mockRestore();
      stderr.mockRestore();
    }
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs without printing, telling its start and every round through the hooks', () => {
    expect(written).toEqual([]);
    expect(start).toMatchObject({ runId: 1, offline: true, roundsDone: 0, logFile: join(out, 'logs', 'run-1.log') });
    // 16 warmup rounds, then 30 rounds and election day for each of the 2 conditions.
    expect(start!.roundsTotal).toBe(16 + 2 * 31);
    expect(progress).toHaveLength(start!.roundsTotal);
    expect(progress.at(-1)).toMatchObject({ stream: 'experiment_soc_message', stage: 'election' });
  });

  it('returns the summary as data, the same as `listRuns` reads back', async () => {
    expect(result).toMatchObject({ runId: 1, status: 'finished', offline: true, fellBack: 0 });
    expect(result.conditions.map((c) => c.stream)).toEqual(['control', 'experiment_soc_message']);
    const [listed] = await listRuns({ out });
    expect(listed).toMatchObject({ id: 1, fingerprint: result.fingerprint, events: result.events, chains: { ok: true, checked: 'heads' } });
    expect((await listRuns({ out }, { verify: true }))[0].chains).toEqual({ checked: 'events', ok: true, broken: null, problem: null });
  });

  it('resumes nothing in a finished run, and replays it identically', async () => {
    expect(await resumeRun({ out })).toEqual({ alreadyFinished: true, runId: 1, fingerprint: result.fingerprint });
    const replay = await replayRun({ out, seed: 4 });
    expect(replay).toMatchObject({ kind: 'exact', runId: 1, fingerprint: result.fingerprint, divergence: null, unanswered: 0 });
  }, 120_000);

  it("reads a user's history as data", async () => {
    const store = (await EventStore.openExisting(out))!;
    const [row] = (await store.personas(1)).map((p) => ({ agent_id: p.agentId }));
    await store.close();
    const id = Number(row.agent_id);
    const history = await userHistory({ out, user: String(id), condition: 'experiment_soc_message' });
    expect(history.streams.map((s) => s.stream)).toEqual(['run/1/warmup', 'run/1/experiment_soc_message']);
    const [persona] = history.streams[0].entries;
    expect(persona).toMatchObject({ kind: 'persona', persona: { id } });
    const stated = history.streams.flatMap((s) => s.entries).filter((e) => e.kind === 'event' && e.event.type === 'VotingIntentionStated');
    expect(history.likelihoods).toHaveLength(stated.length);
    await expect(userHistory({ out, user: '99999' })).rejects.toThrow('user 99999 is not in run 1');
  });

  it('estimates without running, and refuses with errors that carry data', async () => {
    const estimate = estimateRun({ ...options, out: join(dir, 'never') });
    expect(estimate.config.n_users).toBe(40);
    expect(estimate.calls.total).toBeGreaterThan(0);
    await expect(startRun({ ...options, nUsers: 1, out: join(dir, 'refused') })).rejects.toMatchObject({ code: 'usage', flag: '--n-users' });
    await expect(resumeRun({ out: join(dir, 'empty') })).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(replayRun({ out, seed: 4, run: 'x' })).rejects.toBeInstanceOf(UsageError);
  });
});
