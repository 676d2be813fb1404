import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSim, simBinFor } from './helpers.js';
import { writeUsersDir } from './support/users-files.js';

/**
 * A store on a read-only file system (issue 27): the commands that only read it (`runs`, `report`,
 * `export`, `show`, `project`) work and write nothing to it; the commands that would write to it,
 * or to a folder that cannot be written, are refused with exit 2 in one line that says why
 * (EROFS: read-only file system, EACCES). The mount is a real one (a tmpfs remounted read-only),
 * which needs root: elsewhere the mount cases are skipped with the reason, except under CI.
 */
const scratch = mkdtempSync(join(tmpdir(), 'sim-read-only-store-'));
const mount = join(scratch, 'mnt');
const out = join(mount, 'out');
const users = writeUsersDir(join(scratch, 'users'), 60);
const runArgs = ['--users-dir', users, '--n-users', '40', '--seed', '6', '--conditions', 'control'];
const env = { SIM_STORE: '' };
const SPAWNS = 300_000;

function sh(command: string, args: string[]): string | null {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return result.status === 0 ? null : `${command} ${args.join(' ')}: ${(result.stderr || result.error?.message || `exit ${result.status}`).trim()}`;
}

let skip: string | null = null;
let fingerprint = '';
const bytesOf = () => createHash('sha256').update(readFileSync(join(out, 'sim.db'))).digest('hex');
const listing = () => readdirSync(mount, { recursive: true }).map(String).sort();
let before: { files: string[]; bytes: string };
const copiesLeft = () => readdirSync(tmpdir()).filter((name) => name.startsWith('sim-read-only-') && !scratch.endsWith(name));

beforeAll(() => {
  mkdirSync(mount);
  skip = process.getuid?.() === 0 ? sh('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mount]) : 'not root: a read-only mount needs root';
  if (skip) {
    if (process.env.CI) throw new Error(`under CI the read-only mount must be tested: ${skip}`);
    console.warn(`read-only store cases skipped: ${skip}`);
    return;
  }
  const run = runSim(['run', ...runArgs, '--out', out], { env });
  expect(run.status, run.stderr).toBe(0);
  fingerprint = /fingerprint ([0-9a-f]{64})/.exec(run.stdout)![1];
  const remount = sh('mount', ['-o', 'remount,ro', mount]);
  expect(remount).toBeNull();
  before = { files: listing(), bytes: bytesOf() };
}, SPAWNS);

afterAll(() => {
  if (!skip) sh('umount', [mount]);
  rmSync(scratch, { recursive: true, force: true });
});

describe('a store on a read-only mount', () => {
  it('is read by runs, report, export and project, which write nothing to it and leave no copy behind', (context) => {
    if (skip) return context.skip(skip);
    const copies = copiesLeft().length;
    const runs = runSim(['runs', '--json', '--out', out], { env });
    expect(runs.status, runs.stderr).toBe(0);
    expect(JSON.parse(runs.stdout)).toMatchObject([{ id: 1, seed: 6, status: 'finished', fingerprint }]);
    const report = runSim(['report', '--out', out, '--to', join(scratch, 'report')], { env });
    expect(report.status, report.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(scratch, 'report', 'report.json'), 'utf8'))).toMatchObject({ fingerprint });
    const csv = runSim(['export', 'csv', '--out', out, '--to', join(scratch, 'csv')], { env });
    expect(csv.status, csv.stderr).toBe(0);
    expect(existsSync(join(scratch, 'csv', 'control'))).toBe(true);
    const events = runSim(['export', 'events', '--out', out], { env });
    expect(events.status, events.stderr).toBe(0);
    expect(events.stdout.split('\n')[0]).toMatch(/"stream":"warmup"/);
    const project = runSim(['project', '--out', out], { env });
    expect(project.status, project.stderr).toBe(0);
    expect(listing()).toEqual(before.files);
    expect(bytesOf()).toBe(before.bytes);
    expect(copiesLeft()).toHaveLength(copies);
  }, SPAWNS);

  it('refuses every command that would write to it with exit 2, saying the file system is read-only', (context) => {
    if (skip) return context.skip(skip);
    const db = join(out, 'sim.db');
    for (const [args, message] of [
      [['run', ...runArgs, '--out', out], `sim: --out ${out}: cannot write there (EROFS: read-only file system)`],
      [['run', ...runArgs, '--out', join(mount, 'new')], `sim: --out ${join(mount, 'new')}: cannot write there (EROFS: read-only file system)`],
      [['run', ...runArgs, '--store', join(mount, 'new.db'), '--out', scratch], `sim: --store ${join(mount, 'new.db')}: the store ${join(mount, 'new.db')} cannot be written (EROFS: read-only file system)`],
      [['run', ...runArgs, '--store', join(scratch, 'elsewhere.db'), '--out', join(mount, 'logs')], `sim: --out ${join(mount, 'logs')}: cannot write there (EROFS: read-only file system)`],
      [['resume', '--out', out], `sim: --out ${out}: cannot write there (EROFS: read-only file system)`],
      [['resume', '--store', db, '--out', scratch], `sim: --store ${db}: the store ${db} cannot be written (EROFS: read-only file system)`],
      [['project', '--rebuild', '--out', out], `sim: --out ${out}: the store ${db} cannot be written (EROFS: read-only file system)`],
      [['copy', '--from', out, '--to', `${join(mount, 'copy')}/`], `sim: --to ${join(mount, 'copy')}/: the store ${join(mount, 'copy', 'sim.db')} cannot be written (EROFS: read-only file system at ${mount})`],
    ] as const) {
      const result = runSim([...args], { env });
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr.split('\n').filter((l) => l !== '' && !/no OpenAI API key/.test(l))).toEqual([message]);
    }
    expect(existsSync(join(scratch, 'elsewhere.db'))).toBe(false);
    expect(listing()).toEqual(before.files);
    expect(bytesOf()).toBe(before.bytes);
  }, SPAWNS);
});

describe('a folder that cannot be written', () => {
  it('is refused as a store with exit 2 naming the folder and EACCES', (context) => {
    const locked = join(scratch, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    const as: { uid?: number; gid?: number; bin?: string; cwd?: string } = {};
    if (process.getuid?.() === 0) {
      // root writes anywhere: the command runs as "nobody"
      chmodSync(scratch, 0o755);
      chmodSync(users, 0o755);
      const sim = simBinFor({ uid: 65534, gid: 65534 }, scratch);
      if ('skip' in sim) return context.skip(sim.skip);
      Object.assign(as, { uid: 65534, gid: 65534, bin: sim.bin, cwd: scratch });
    }
    const target = join(locked, 'results');
    const result = runSim(['run', ...runArgs, '--out', target], { ...as, env });
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr.split('\n').filter((l) => l !== '' && !/no OpenAI API key/.test(l))).toEqual([`sim: --out ${target}: cannot write there (EACCES: permission denied)`]);
    expect(readdirSync(locked)).toEqual([]);
  }, SPAWNS);
});
