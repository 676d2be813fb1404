import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rng } from '../src/domain/rng.js';
import { PROJECT_ROOT, SIM_BIN, runSim } from './helpers.js';
import { writeUsersDir } from './support/users-files.js';

/**
 * Kills `sim run` with SIGKILL at random moments (mid-round, spread over the warmup, the conditions
 * and election day), resumes it, and checks the finished log is the uninterrupted one, hash for hash.
 */
const scratch = mkdtempSync(join(tmpdir(), 'sim-crash-'));
const users = writeUsersDir(join(scratch, 'users'), 150);
const args = ['run', '--users-dir', users, '--n-users', '120', '--seed', '9', '--conditions', 'control,experiment_soc_message'];
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const fingerprintOf = (out: string) => {
  const runs = JSON.parse(runSim(['runs', '--json', '--out', out]).stdout) as Array<{ fingerprint: string; status: string }>;
  return runs[0];
};

/** Starts a run and kills it once it has printed `afterLines` progress lines, plus `delayMs`. */
function runAndKill(out: string, afterLines: number, delayMs: number): Promise<{ killedAt: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SIM_BIN, ...args, '--out', out], { cwd: PROJECT_ROOT, env: { ...process.env, OPENAI_API_KEY: '' } });
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

describe('crash safety', () => {
  it('a run killed at 10 random moments and resumed each time equals the uninterrupted run', async () => {
    const reference = join(scratch, 'reference');
    const done = runSim([...args, '--out', reference]);
    expect(done.status).toBe(0);
    const progressLines = done.stderr.split('\n').filter((l) => / agents /.test(l)).length;
    // warmup 16 rounds + 2 conditions x (30 rounds + election day)
    expect(progressLines).toBe(16 + 2 * 31);
    const expected = fingerprintOf(reference).fingerprint;

    const r = rng(2024, 'crash-test', 0, 0, 'kill-points');
    const stagesHit = new Set<string>();
    for (let k = 0; k < 10; k++) {
      const out = join(scratch, `killed-${k}`);
      // The last kill point is always on election day of the last condition.
      const afterLines = k === 9 ? progressLines - 1 : r.int(1, progressLines - 2);
      const { killedAt } = await runAndKill(out, afterLines, r.int(0, 30));
      stagesHit.add(killedAt.split(':')[0]);
      expect(['interrupted', 'finished']).toContain(fingerprintOf(out).status);
      const resumed = runSim(['resume', '--out', out]);
      expect(resumed.status, resumed.stderr).toBe(0);
      const after = fingerprintOf(out);
      expect(after.status).toBe('finished');
      expect(after.fingerprint, `killed after "${killedAt}"`).toBe(expected);
    }
    expect(stagesHit.size).toBeGreaterThanOrEqual(2);
  }, 300_000);

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
    expect(await exited).toBe(0);
    expect(runSim(['project', '--out', out]).status).toBe(0);
    const reference = join(scratch, 'two-writers-reference');
    expect(runSim([...long, '--out', reference]).status).toBe(0);
    expect(fingerprintOf(out)).toMatchObject({ status: 'finished', fingerprint: fingerprintOf(reference).fingerprint });
  }, 120_000);
});
