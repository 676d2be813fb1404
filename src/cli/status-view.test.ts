import { describe, expect, it } from 'vitest';
import type { RunJobsStatus, StreamStatus } from '../api/status.js';
import { jobAttempts } from '../api/status.js';
import { lastRoundOf } from '../sim/run-catalogue.js';
import { runDetailLines, statusLines, statusOrder } from './status-view.js';

const NAMES = ['warmup', 'control', 'treatment_info_message', 'treatment_soc_message', 'experiment_info_message', 'experiment_soc_message'];

function stream(name: string, state: StreamStatus['state'], extra: Partial<StreamStatus> = {}): StreamStatus {
  return { stream: name, state, worker: null, since: null, round: state === 'done' ? (name === 'warmup' ? 0 : 30) : null, fromRound: null, roundsPerSecond: null, attempts: state === 'done' ? 1 : 0, reason: null, ...extra };
}

function finished(runId: number): RunJobsStatus {
  return { runId, status: 'finished', seed: runId, createdAt: '2026-12-01T00:00:00.000Z', live: false, streams: NAMES.map((n) => stream(n, 'done')) };
}

/** Run 5: warmup and control done, one condition running in round 12 on worker w1, one queued, two waiting. */
const live: RunJobsStatus = {
  runId: 5,
  status: 'running',
  seed: 2,
  createdAt: '2026-12-01T00:00:00.000Z',
  live: true,
  streams: [
    stream('warmup', 'done'),
    stream('control', 'done'),
    stream('treatment_info_message', 'running', { worker: 'w1', since: '2026-12-01T10:00:00.000Z', round: 12, fromRound: 4, roundsPerSecond: 0.5, attempts: 1 }),
    stream('treatment_soc_message', 'queued', { since: '2026-12-01T10:00:30.000Z' }),
    stream('experiment_info_message', 'waiting'),
    stream('experiment_soc_message', 'waiting'),
  ],
};

const failed: RunJobsStatus = { ...finished(7), status: 'failed', streams: [stream('warmup', 'failed', { attempts: 1, reason: 'model "gpt-x" not found on the server (404); check the model name in the config' })] };

describe('sim status, one line per run', () => {
  const runs = [finished(1), finished(2), live, finished(3), failed, finished(4)];

  it('puts live runs first, then the others, most recent first', () => {
    expect(statusOrder(runs).map((r) => r.runId)).toEqual([5, 7, 4, 3, 2, 1]);
  });

  it('prints a header, a rule and a line per run within 80 columns: jobs, round, rate, workers, a failure reason cut to fit', () => {
    const lines = statusLines(runs, { width: 80 });
    expect(lines).toHaveLength(2 + runs.length);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(lines[0]).toMatch(/^run +status +done +jobs +round +rounds\/s +workers +reason$/);
    // 96 columns wide: the reason is cut to its least (6), then the name of the round's stream.
    expect(lines[2]).toBe('  5  running   2/6   1 running, 1 queued  12 (treatm…  0.50      w1');
    expect(lines[3]).toBe('  7  failed    0/1   1 failed             - (warmup)                      model…');
    // Wider, every cell whole.
    expect(statusLines(runs, { width: 200 })[2]).toMatch(/^ *5 +running +2\/6 +1 running, 1 queued +12 \(treatment_info_message\) +0\.50 +w1$/);
    expect(lines[4]).toMatch(/^ *4 +finished +6\/6 +done +30$/);
    // Without a failure, no reason column.
    expect(statusLines([finished(1)], { width: 80 })[0]).toMatch(/workers$/);
  });

  it('fits a terminal\'s height when watching: live runs kept, "... N more finished" for those left out', () => {
    const many = [...Array.from({ length: 30 }, (_, i) => finished(i + 10)), live];
    const lines = statusLines(many, { width: 80, height: 23 });
    expect(lines).toHaveLength(23);
    expect(lines[2]).toMatch(/^ *5 +running/);
    // 23 lines: header, rule, 20 runs, and the line saying what is left out.
    expect(lines[22]).toBe('... 11 more finished');
    expect(statusLines([live, failed, ...Array.from({ length: 3 }, (_, i) => finished(i + 10))], { width: 80, height: 5 }).at(-1)).toBe('... 3 more (1 failed, 2 finished)');
    // Everything fits: no such line.
    expect(statusLines(runs, { width: 80, height: 23 })).toHaveLength(8);
  });

  it('says so when the store holds no run', () => {
    expect(statusLines([], { width: 80 })).toEqual(['no runs']);
  });
});

describe('sim status --run ID', () => {
  it('a line per stream: job, worker, since, round, rate, and tries only for a job that ran', () => {
    const lines = runDetailLines(live, { width: 80, nowMs: Date.parse('2026-12-01T10:01:00.000Z') });
    expect(lines[0]).toBe('run 5  running  seed 2  created 2026-12-01T00:00:00.000Z  2/6 streams done');
    expect(lines[1]).toMatch(/^stream +job +worker +since +round +rounds\/s +tries$/);
    expect(lines).toHaveLength(3 + 6);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(lines[5]).toMatch(/^treatment_info_message +running +w1 +60s ago +12 +0\.50 +1$/);
    // Queued, never started: no tries.
    expect(lines[6]).toMatch(/^treatment_soc_message +queued +30s ago +-$/);
    expect(lines[7]).toMatch(/^experiment_info_message +waiting +-$/);
  });
});

describe('attempts of a job', () => {
  it('counts the times it was started: none while waiting for its first worker', () => {
    expect(jobAttempts({ state: 'created', retryCount: 0 })).toBe(0);
    expect(jobAttempts({ state: 'active', retryCount: 0 })).toBe(1);
    // Waiting for its retry after three failed starts: pg-boss counted two retries (it counts one when a job starts again).
    expect(jobAttempts({ state: 'retry', retryCount: 2 })).toBe(3);
    expect(jobAttempts({ state: 'active', retryCount: 2 })).toBe(3);
    expect(jobAttempts({ state: 'failed', retryCount: 0 })).toBe(1);
    expect(jobAttempts({ state: 'completed', retryCount: 1 })).toBe(2);
  });
});

describe("a run's last round", () => {
  const s = (name: string, lastRound: number | null, done: boolean) => ({ name, lastRound, lastType: done ? 'StageCompleted' : 'RoundCompleted' });

  it('is the round of the condition in progress, not the highest of another condition', () => {
    expect(lastRoundOf([s('warmup', 0, true), s('control', 30, true), s('treatment_info_message', 12, false)])).toEqual({ lastRound: 12, inProgress: 'treatment_info_message' });
  });

  it('is the least advanced of several in progress, and none for a stream with no complete round yet', () => {
    expect(lastRoundOf([s('warmup', 0, true), s('control', 17, false), s('treatment_info_message', 9, false), s('experiment_soc_message', null, false)])).toEqual({ lastRound: 9, inProgress: 'treatment_info_message' });
    expect(lastRoundOf([s('warmup', 0, true), s('control', null, false)])).toEqual({ lastRound: null, inProgress: 'control' });
    expect(lastRoundOf([s('warmup', -4, false)])).toEqual({ lastRound: -4, inProgress: 'warmup' });
  });

  it('is the highest when every stream is finished, and none for a run without events', () => {
    expect(lastRoundOf([s('warmup', 0, true), s('control', 30, true)])).toEqual({ lastRound: 30, inProgress: null });
    expect(lastRoundOf([])).toEqual({ lastRound: null, inProgress: null });
  });
});
