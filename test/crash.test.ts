import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rng } from '../src/domain/rng.js';
import { PROJECT_ROOT, SIM_BIN, runSim } from './helpers.js';
import { writeUsersDir } from './support/users-files.js';
import { freshPostgresDatabase, postgresForTests, postgresRequired } from './support/store-backends.js';

/**
 * Kills `sim run` with SIGKILL at random moments (mid-round, spread over the warmup, the conditions
 * and election day), resumes it, and checks the finished log is the uninterrupted one, hash for hash.
 */
const scratch = mkdtempSync(join(tmpdir(), 'sim-crash-'));
const users = writeUsersDir(join(scratch, 'users'), 150);
const args = ['run', '--users-dir', users, '--n-users', '120', '--seed', '9', '--conditions', 'control,experiment_soc_message'];
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Where a run's store is: `--out DIR` (SQLite, DIR/sim.db), plus `--store URL` on PostgreSQL. */
type Where = string[];

const fingerprintOf = (where: Where) => {
  const runs = JSON.parse(runSim(['runs', '--json', ...where]).stdout) as Array<{ fingerprint: string; status: string }>;
  return runs[0];
};

/** Starts a run and kills it once it has printed `afterLines` progress lines, plus `delayMs`. */
function runAndKill(where: Where, afterLines: number, delayMs: number): Promise<{ killedAt: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SIM_BIN, ...args, ...where], { cwd: PROJECT_ROOT, env: { ...process.env, OPENAI_API_KEY: '' } });
    let lines = 0;
    let last = '';
    let buffered = '';
    let armed = false;
    child.stderr.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        if (!/ agents /.test(line)) continue;
        lines += 1;
        last = line.split('|')[0].trim();
        if (lines >= afterLines && !armed) {
          armed = true;
          setTimeout(() => child.kill('SIGKILL'), delayMs);
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ killedAt: last });
      else reject(new Error(`run ended by itself (code ${code}) before the kill at line ${afterLines}`));
    });
  });
}

const pg = postgresForTests();
const dropDatabases: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const drop of dropDatabases) await drop().catch(() => undefined);
});

/** A fresh place for one run on each backend. */
const backends: Array<{ name: string; skip: string | null; kills: number; where: (out: string) => Promise<Where> }> = [
  { name: 'sqlite', skip: null, kills: 10, where: async (out) => ['--out', out] },
  {
    name: 'postgres',
    skip: pg.url || postgresRequired ? null : pg.reason,
    kills: 5,
    where: async (out) => {
      if (!pg.url) throw new Error(`SIM_REQUIRE_POSTGRES=1 but ${pg.reason}`);
      const db = await freshPostgresDatabase(pg.url);
      dropDatabases.push(db.drop);
      return ['--out', out, '--store', db.url];
    },
  },
];

let expected: string | null = null;
let progressLines = 0;
/** The uninterrupted run, recorded once on SQLite: every backend's resumed run must equal it. */
function reference(): string {
  if (expected) return expected;
  const out = join(scratch, 'reference');
  const done = runSim([...args, '--out', out]);
  expect(done.status).toBe(0);
  progressLines = done.stderr.split('\n').filter((l) => / agents /.test(l)).length;
  // warmup 16 rounds + 2 conditions x (30 rounds + election day)
  expect(progressLines).toBe(16 + 2 * 31);
  expected = fingerprintOf(['--out', out]).fingerprint;
  return expected;
}

describe.each(backends)('crash safety on $name', (backend) => {
  if (backend.skip) console.warn(`crash test on ${backend.name} skipped: ${backend.skip}`);
  it.skipIf(backend.skip !== null)(`a run killed at ${backend.kills} random moments and resumed each time equals the uninterrupted run${backend.skip ? ` (skipped: ${backend.skip})` : ''}`, async () => {
    const fingerprint = reference();
    const r = rng(2024, 'crash-test', 0, 0, `kill-points-${backend.name}`);
    const stagesHit = new Set<string>();
    for (let k = 0; k < backend.kills; k++) {
      const where = await backend.where(join(scratch, `${backend.name}-killed-${k}`));
      // The last kill point is always on election day of the last condition.
      const afterLines = k === backend.kills - 1 ? progressLines - 1 : r.int(1, progressLines - 2);
      const { killedAt } = await runAndKill(where, afterLines, r.int(0, 30));
      stagesHit.add(killedAt.split(':')[0]);
      expect(['interrupted', 'finished']).toContain(fingerprintOf(where).status);
      const resumed = runSim(['resume', ...where]);
      expect(resumed.status, resumed.stderr).toBe(0);
      const after = fingerprintOf(where);
      expect(after.status).toBe('finished');
      expect(after.fingerprint, `killed after "${killedAt}"`).toBe(fingerprint);
    }
    expect(stagesHit.size).toBeGreaterThanOrEqual(2);
  }, 400_000);
});

describe('crash safety', () => {
  it('refuses a second process executing the same run, and neither corrupts the log', async () => {
    const out = join(scratch, 'two-writers');
    // Long enough (the default population, 3,000 users) that the second process arrives mid-run.
    const long = ['run', '--n-users', '3000', '--seed', '9', '--conditions', 'control,experiment_soc_message', '--workers', '1'];
    const child = spawn(process.execPath, [SIM_BIN, ...long, '--out', out], { cwd: PROJECT_ROOT, env: { ...process.env, OPENAI_API_KEY: '' } });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      let text = '';
      child.stderr.on('data', (c: Buffer) => {
        text += c.toString();
        if (/ agents /.test(text)) resolve();
      });
    });
    const second = runSim(['resume', '--out', out]);
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(/run 1 is being executed by process \d+/);
    // One line: refused before anything is told, with no stack.
    expect(second.stderr.trim().split('\n'), second.stderr).toHaveLength(1);
    expect(await exited).toBe(0);
    expect(runSim(['project', '--out', out]).status).toBe(0);
    const reference = join(scratch, 'two-writers-reference');
    expect(runSim([...long, '--out', reference]).status).toBe(0);
    expect(fingerprintOf(['--out', out])).toMatchObject({ status: 'finished', fingerprint: fingerprintOf(['--out', reference]).fingerprint });
  }, 120_000);
});
