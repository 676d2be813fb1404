import { listRuns } from '../src/sim/run-catalogue.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../src/sim/store.js';
import { PROJECT_ROOT, SIM_BIN, runSim, runSimAsync } from './helpers.js';
import { sqliteOf } from './helpers.js';
import { startFakeServer } from './support/fake-openai-server.js';
import { writeUsersDir } from './support/users-files.js';

/**
 * Ctrl-C (SIGINT) and SIGTERM stop an offline run, in one thread and in worker threads, at a round
 * boundary: exit 130, a message saying `sim resume` continues, intact hash chains, and a resume that
 * ends on the uninterrupted run's fingerprint.
 */
const scratch = mkdtempSync(join(tmpdir(), 'sim-interrupt-'));
const users = writeUsersDir(join(scratch, 'users'), 400);
// 16 warmup rounds + 2 x (30 rounds + election day): long enough (several seconds) that a run
// which ignored the signal would finish with exit 0 instead.
const args = ['run', '--users-dir', users, '--n-users', '300', '--seed', '5', '--conditions', 'control,experiment_soc_message'];
const TOTAL_ROUNDS = 16 + 2 * 31;
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface RunRow {
  fingerprint: string;
  status: string;
}
/** The runs as `sim runs --json` lists them, read in this process (a child process costs seconds on a loaded machine). */
async function runsOf(out: string): Promise<RunRow[]> {
  const store = await EventStore.open(out);
  try {
    return (await listRuns(store)) as RunRow[];
  } finally {
    await store.close();
  }
}

interface Stopped {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** Progress lines printed before the signal was sent. */
  linesBefore: number;
  /** From sending the signal to the process's exit. */
  stopMs: number;
}

/** Starts `sim run`, sends `signal` once a progress line matches `trigger`, and waits for the exit. */
function runAndSignal(out: string, extra: string[], trigger: RegExp, signal: NodeJS.Signals, cli = args, env: NodeJS.ProcessEnv = {}): Promise<Stopped> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SIM_BIN, ...cli, ...extra, '--out', out], { cwd: PROJECT_ROOT, env: { ...process.env, OPENAI_API_KEY: '', ...env } });
    let stderr = '';
    let lines = 0;
    let linesBefore = -1;
    let sentAt = 0;
    let partial = '';
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stderr += text;
      const parts = (partial + text).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        if (!/ agents /.test(line)) continue;
        lines += 1;
        if (linesBefore < 0 && trigger.test(line)) {
          linesBefore = lines;
          sentAt = Date.now();
          child.kill(signal);
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code, sig) => resolve({ code, signal: sig, stderr, linesBefore, stopMs: sentAt ? Date.now() - sentAt : -1 }));
  });
}

/** Every stream ends on a whole batch: a round, a stage's start or its end. Returns the rounds recorded. */
async function endsOnRoundBoundaries(out: string): Promise<number> {
  const store = await EventStore.open(out);
  try {
    const streams = sqliteOf(store).sqlite.prepare('select stream_id as id from streams').all() as Array<{ id: string }>;
    // A condition stream starts with its StageStarted batch; a stop right after it is a boundary too.
    for (const { id } of streams) expect(['StageStarted', 'RoundCompleted', 'StageCompleted', null], id).toContain((await store.lastEventType(id)) ?? null);
    const rounds = sqliteOf(store).sqlite.prepare(`select count(*) as n from events where type = 'RoundCompleted' or (type = 'StageCompleted' and payload like '%election%')`).get() as { n: number };
    return rounds.n;
  } finally {
    await store.close();
  }
}

describe('Ctrl-C and SIGTERM stop an offline run', () => {
  let expected: string;
  beforeAll(async () => {
    const reference = join(scratch, 'reference');
    const done = runSim([...args, '--out', reference, '--workers', '1']);
    expect(done.status, done.stderr).toBe(0);
    expected = (await runsOf(reference))[0].fingerprint;
  }, 180_000);

  const cases: Array<{ name: string; signal: NodeJS.Signals; workers: number; trigger: RegExp; threads: number }> = [
    { name: 'SIGINT, one thread, in the warmup', signal: 'SIGINT', workers: 1, trigger: /^warmup: round -10 /, threads: 1 },
    { name: 'SIGTERM, one thread, in a condition', signal: 'SIGTERM', workers: 1, trigger: /^control: round 4 /, threads: 1 },
    { name: 'SIGINT, worker threads', signal: 'SIGINT', workers: 2, trigger: /: round 4 /, threads: 2 },
    { name: 'SIGTERM, worker threads', signal: 'SIGTERM', workers: 2, trigger: /: round 4 /, threads: 2 },
  ];
  for (const c of cases) {
    it(`${c.name}: stops at a round boundary with exit 130, and resume gives the uninterrupted fingerprint`, async () => {
      const out = join(scratch, `${c.signal}-${c.workers}`);
      const stopped = await runAndSignal(out, ['--workers', String(c.workers)], c.trigger, c.signal);
      expect(stopped.linesBefore, stopped.stderr).toBeGreaterThan(0);
      expect(stopped.signal).toBeNull();
      expect(stopped.code, stopped.stderr).toBe(130);
      expect(stopped.stderr).toContain(`sim: ${c.signal}: stopping at the next round boundary`);
      expect(stopped.stderr).toMatch(/sim: interrupted before round -?\d+ of \w+ was recorded; every round before it is saved: `sim resume 1 --out \S+` continues\n$/);
      // Generous for a loaded machine; a run that ignored the signal would go on for every remaining round.
      expect(stopped.stopMs).toBeLessThan(10_000);
      expect((await runsOf(out))[0].status).toBe('interrupted');
      const recorded = await endsOnRoundBoundaries(out);
      // At most the round each thread had in progress was recorded after the signal (and lines in
      // flight in the pipe): far from the end of the run.
      expect(recorded).toBeLessThanOrEqual(stopped.linesBefore + 2 * c.threads);
      expect(recorded).toBeLessThan(TOTAL_ROUNDS - 20);

      const resumed = runSim(['resume', '--out', out]);
      expect(resumed.status, resumed.stderr).toBe(0);
      expect((await runsOf(out))[0]).toMatchObject({ status: 'finished', fingerprint: expected });
    }, 180_000);
  }

  it('a second signal ends the process at once, and resume still completes the run exactly', async () => {
    const out = join(scratch, 'twice');
    const child = spawn(process.execPath, [SIM_BIN, ...args, '--workers', '1', '--out', out], { cwd: PROJECT_ROOT, env: { ...process.env, OPENAI_API_KEY: '' } });
    let sent = false;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    child.stderr.on('data', (chunk: Buffer) => {
      if (!sent && /control: round 2 /.test(chunk.toString())) {
        sent = true;
        child.kill('SIGINT');
        child.kill('SIGINT');
      }
    });
    const { code, signal } = await exited;
    // Either the first stop completed before the second signal arrived (exit 130), or the second
    // one ended the process by the default action of SIGINT (what a shell reports as 130 too).
    expect(code === 130 || signal === 'SIGINT', `code ${code}, signal ${signal}`).toBe(true);
    await endsOnRoundBoundaries(out);
    const resumed = runSim(['resume', '--out', out]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect((await runsOf(out))[0]).toMatchObject({ status: 'finished', fingerprint: expected });
  }, 180_000);
});

describe('Ctrl-C in an LLM run', () => {
  it('stops with exit 130, and resume completes the run', async () => {
    const server = await startFakeServer({ latencyMs: 20 });
    try {
      const out = join(scratch, 'llm');
      const llmArgs = ['run', '--provider', 'openai', '--base-url', server.url, '--users-dir', users, '--n-users', '20', '--seed', '2', '--conditions', 'control', '--num-contents', '3'];
      const stopped = await runAndSignal(out, [], /^warmup: round -12 /, 'SIGINT', llmArgs, { OPENAI_API_KEY: 'sk-test' });
      expect(stopped.code, stopped.stderr).toBe(130);
      expect(stopped.stderr).toMatch(/interrupted before round -?\d+ of warmup was recorded.*`sim resume 1 --out \S+` continues/);
      expect((await runsOf(out))[0].status).toBe('interrupted');
      const resumed = await runSimAsync(['resume', '--out', out], { env: { OPENAI_API_KEY: 'sk-test' } });
      expect(resumed.status, resumed.stderr).toBe(0);
      expect((await runsOf(out))[0].status).toBe('finished');
    } finally {
      await server.close();
    }
  }, 180_000);
});
