import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, runSim, SIM_BIN } from './helpers.js';
import { writeUsersDir } from './support/users-files.js';

/**
 * A reader that closes the pipe (`sim runs | head -1`) ends the command at once and quietly, with
 * status 141 (128 + SIGPIPE, as a shell reports for any Unix tool cut short so), never with Node's
 * "Unhandled 'error' event ... EPIPE" and its stack (issue 27).
 */
const scratch = mkdtempSync(join(tmpdir(), 'sim-closed-output-'));
const out = join(scratch, 'out');
const users = writeUsersDir(join(scratch, 'users'), 120);
const runArgs = ['--users-dir', users, '--n-users', '80', '--seed', '2'];
const SPAWNS = 300_000;

beforeAll(() => {
  const run = runSim(['run', ...runArgs, '--out', out]);
  expect(run.status, run.stderr).toBe(0);
}, SPAWNS);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * Runs `sim` with the reading end of its stdout (or stderr) closed before it writes anything: every
 * write it makes to that stream meets EPIPE, whatever the timing. Returns its status and the other stream.
 */
function withClosed(which: 'stdout' | 'stderr', args: string[]): Promise<{ status: number | null; signal: string | null; other: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SIM_BIN, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, OPENAI_API_KEY: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child[which].destroy();
    let other = '';
    child[which === 'stdout' ? 'stderr' : 'stdout'].on('data', (c: Buffer) => (other += c.toString()));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, other }));
  });
}

describe('a closed standard output', () => {
  it('ends `sim runs` quietly with status 141', async () => {
    const result = await withClosed('stdout', ['runs', '--out', out]);
    expect(result).toEqual({ status: 141, signal: null, other: '' });
  }, SPAWNS);

  it('ends `sim plan` quietly, after its pilot, with status 141', async () => {
    const result = await withClosed('stdout', ['plan', '--effect', '0.5', '--pilot', '1', '--out', out]);
    expect(result.status).toBe(141);
    expect(result.other).not.toMatch(/EPIPE|Error|at /);
  }, SPAWNS);

  it('in a real pipeline into `head -1`: the first line arrives, the writer stops quietly', () => {
    // export events writes megabytes: far more than a pipe holds, so head's exit closes it under the writer.
    const script = `{ "${process.execPath}" "${SIM_BIN}" export events --out "${out}" 2>"${scratch}/err"; echo $? >"${scratch}/status"; } | head -1`;
    const result = spawnSync('sh', ['-c', script], { cwd: PROJECT_ROOT, encoding: 'utf8', env: { ...process.env, OPENAI_API_KEY: '' } });
    expect(result.status).toBe(0);
    expect(result.stdout.split('\n')).toHaveLength(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ position: 1, stream: 'warmup' });
    expect(readFileSync(join(scratch, 'err'), 'utf8')).toBe('');
    expect(readFileSync(join(scratch, 'status'), 'utf8').trim()).toBe('141');
  }, SPAWNS);
});

describe('a closed standard error', () => {
  it('stops `sim run` at its first notice (before anything is recorded) with status 141 and nothing on stdout', async () => {
    const dir = join(scratch, 'cut');
    const result = await withClosed('stderr', ['run', ...runArgs, '--out', dir]);
    expect(result).toEqual({ status: 141, signal: null, other: '' });
  }, SPAWNS);
});

describe('a standard output that cannot be written', () => {
  it('(a full disk: /dev/full) is one line on stderr and exit 1, not a stack', (context) => {
    if (!existsSync('/dev/full')) return context.skip('no /dev/full on this system');
    const full = openSync('/dev/full', 'w');
    const result = spawnSync(process.execPath, [SIM_BIN, 'runs', '--out', out], { cwd: PROJECT_ROOT, env: { ...process.env, OPENAI_API_KEY: '' }, stdio: ['ignore', full, 'pipe'], encoding: 'utf8' });
    closeSync(full);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('sim: cannot write to standard output (ENOSPC)\n');
  }, SPAWNS);
});
