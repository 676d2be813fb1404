import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../src/sim/store.js';
import { runSim } from './helpers.js';
import { writeUsersDir } from './support/users-files.js';

/**
 * What `sim run` refuses, with which exit code and message, and that a refused command writes
 * nothing (README, "Exit codes"): 2 for a command line that cannot be used as typed, 1 for the rest.
 */
const scratch = mkdtempSync(join(tmpdir(), 'sim-checks-'));
const users = writeUsersDir(join(scratch, 'users'), 60);
const small = ['--users-dir', users, '--n-users', '30', '--conditions', 'control', '--num-contents', '4'];
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
/** A fresh output folder that does not exist yet. */
const freshOut = () => join(scratch, `out-${++counter}`);
const oneLine = (stderr: string) => stderr.trim().split('\n').filter((l) => !/^sim: no OpenAI API key found/.test(l));

describe('sim run validates everything before creating anything', { timeout: 240_000 }, () => {
  const refusals: Array<{ name: string; args: string[]; env?: NodeJS.ProcessEnv; status: number; message: RegExp }> = [
    {
      name: '--provider openai without a key',
      args: ['--provider', 'openai'],
      status: 2,
      message: /^sim: --provider openai: no API key \(set OPENAI_API_KEY/,
    },
    {
      name: 'a base URL that is not http(s)',
      args: ['--provider', 'openai', '--base-url', 'ftp://127.0.0.1/v1'],
      env: { OPENAI_API_KEY: 'sk-test' },
      status: 2,
      message: /^sim: --base-url: "ftp:\/\/127\.0\.0\.1\/v1" is not an http\(s\) URL/,
    },
    {
      name: 'a base URL that does not parse, from the environment',
      args: ['--provider', 'openai'],
      env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: 'not a url' },
      status: 2,
      message: /^sim: OPENAI_BASE_URL: "not a url" is not a URL/,
    },
    {
      name: 'a users folder that does not exist',
      args: ['--users-dir', join(scratch, 'no-such-users')],
      status: 2,
      message: /^sim: --users-dir \S+no-such-users: no such folder \(it should hold profiles\.csv and network\.csv\)$/,
    },
    {
      name: 'a negative --n-users, named by its flag',
      args: ['--n-users', '-5'],
      status: 2,
      message: /^sim: --n-users: must be at least 2$/,
    },
    {
      name: 'an unknown condition, named by its flag',
      args: ['--conditions', 'control,nope'],
      status: 2,
      message: /^sim: --conditions: unknown condition "nope" \(known: control, /,
    },
  ];
  for (const r of refusals) {
    it(`refuses ${r.name} with exit ${r.status}, one line, and no output folder`, () => {
      const out = freshOut();
      const args = ['run', '--users-dir', users, ...r.args, '--out', out];
      const result = runSim(args, { env: r.env });
      expect(result.status, result.stderr).toBe(r.status);
      const lines = oneLine(result.stderr);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(r.message);
      expect(lines[0]).not.toMatch(/n_users/);
      expect(existsSync(out), 'output folder created').toBe(false);
    });
  }

  it('refuses a config file with a bad base URL under the file name, exit 1', () => {
    const config = join(scratch, 'bad-url.json');
    writeFileSync(config, JSON.stringify({ provider: 'openai', base_url: 'localhost:8000' }));
    const out = freshOut();
    const result = runSim(['run', ...small, '--config', config, '--out', out], { env: { OPENAI_API_KEY: 'sk-test' } });
    expect(result.status).toBe(1);
    expect(oneLine(result.stderr)).toEqual([`sim: ${config}: 1 problem: base_url: "localhost:8000" is not an http(s) URL (start it with http:// or https://)`]);
    expect(existsSync(out)).toBe(false);
  });

  it('names the line and column of invalid JSON in a config, not a character position', () => {
    const config = join(scratch, 'broken.json');
    // The "}" after "seed": is on line 3, column 11 (counted by hand).
    writeFileSync(config, '{\n  "n_users": 10,\n  "seed": }\n');
    const out = freshOut();
    const result = runSim(['run', ...small, '--config', config, '--out', out]);
    expect(result.status).toBe(1);
    expect(oneLine(result.stderr)).toEqual([`sim: ${config}: 1 problem: line 3, column 11: not valid JSON: expected a value, found "}"`]);
    expect(result.stderr).not.toMatch(/position/);
    expect(existsSync(out)).toBe(false);
  });

  it('does not echo a binary file given as profiles.csv, and shows a short printable excerpt', () => {
    const dir = join(scratch, 'binary-users');
    mkdirSync(dir);
    const bytes = Buffer.alloc(20_000);
    Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01]).copy(bytes);
    // then NUL bytes, and from 64 on every byte value in turn.
    for (let i = 64; i < bytes.length; i++) bytes[i] = i % 256;
    writeFileSync(join(dir, 'profiles.csv'), bytes);
    writeFileSync(join(dir, 'network.csv'), 'source_user_id,target_user_id\n');
    const out = freshOut();
    const result = runSim(['run', '--users-dir', dir, '--n-users', '5', '--out', out]);
    expect(result.status).toBe(1);
    const lines = oneLine(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/profiles\.csv: is a binary file, not CSV text \(it starts with "\\x7fELF\\x02\\x01\\x01(\\x00){17}\.\.\."\)$/);
    expect(lines[0].length).toBeLessThan(300);
    // Nothing unprintable reaches the terminal.
    expect(result.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses --from-warmup in a folder with no database, creating none', () => {
    const out = freshOut();
    const result = runSim(['run', '--from-warmup', '--out', out]);
    expect(result.status).toBe(1);
    expect(oneLine(result.stderr)).toEqual([`sim: --from-warmup: ${out} holds no sim.db, so no recorded warmup (record one with \`sim run --warmup-only --out ${out}\`)`]);
    expect(existsSync(out)).toBe(false);
  });

  it('names the --store, not a sim.db, when --from-warmup finds an empty store', () => {
    const out = freshOut();
    const db = join(out, 'elsewhere.db');
    const result = runSim(['run', '--from-warmup', '--out', out, '--store', `sqlite:${db}`]);
    expect(result.status).toBe(1);
    const lines = oneLine(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('elsewhere.db holds no sim store yet, so no recorded warmup');
    expect(lines[0]).not.toContain('sim.db');
    expect(existsSync(db)).toBe(false);
  });
});

describe('sim run --from-warmup', { timeout: 240_000 }, () => {
  const out = join(scratch, 'warm');
  const runs = () => JSON.parse(runSim(['runs', '--json', '--out', out]).stdout) as Array<{ id: number; seed: number; status: string }>;
  const logs = () => readdirSync(join(out, 'logs')).sort();
  beforeAll(() => {
    const warm = runSim(['run', '--users-dir', users, '--n-users', '30', '--seed', '7', '--num-contents', '4', '--warmup-only', '--out', out]);
    expect(warm.status, warm.stderr).toBe(0);
  }, 240_000);

  it("records and prints the warmup's users and seed, not the defaults", async () => {
    const result = runSim(['run', '--from-warmup', '--conditions', 'control', '--out', out]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/sim: run 2: 30 users, seed 7, conditions control;/);
    expect(runs().map((r) => [r.id, r.seed])).toEqual([
      [1, 7],
      [2, 7],
    ]);
    const store = await EventStore.open(out);
    try {
      const config = (await store.getRun(2)).config as { n_users: number; seed: number; users_dir: string; content: { initial_posts: number }; from_warmup: string; run_conditions: string[] };
      expect(config).toMatchObject({ n_users: 30, seed: 7, users_dir: users, content: { initial_posts: 4 }, run_conditions: ['control'] });
      expect(config.from_warmup).toMatch(/warmup/);
    } finally {
      await store.close();
    }
  });

  it('accepts flags that agree with the warmup', () => {
    const result = runSim(['run', '--from-warmup', '1', '--n-users', '30', '--seed', '7', '--conditions', 'control', '--out', out]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/run 3: 30 users, seed 7/);
  });

  it('refuses flags and config keys that conflict with the warmup, listing each, and records nothing', () => {
    const before = { runs: runs(), logs: logs() };
    const config = join(scratch, 'feed.json');
    writeFileSync(config, JSON.stringify({ feed: { length: 6 } }));
    const result = runSim(['run', '--from-warmup', '1', '--n-users', '1000', '--seed', '1', '--config', config, '--out', out]);
    expect(result.status).toBe(2);
    expect(oneLine(result.stderr)).toEqual([
      `sim: --from-warmup: run 1's warmup was recorded with other settings (n_users 30, seed 7, users_dir "${users}", topic "Politics"); these conflict with it: --n-users 1000, --seed 1, ${config}: feed (drop them, or record a new warmup)`,
    ]);
    const withWarmupOnly = runSim(['run', '--from-warmup', '1', '--warmup-only', '--out', out]);
    expect(withWarmupOnly.status).toBe(2);
    expect(oneLine(withWarmupOnly.stderr)).toEqual(["sim: --warmup-only and --from-warmup conflict: run 1's warmup is recorded already"]);
    expect({ runs: runs(), logs: logs() }).toEqual(before);
  });
});

describe('sim show user', { timeout: 240_000 }, () => {
  const out = join(scratch, 'show');
  beforeAll(() => {
    const done = runSim(['run', ...small, '--out', out]);
    expect(done.status, done.stderr).toBe(0);
  }, 240_000);
  const runsJson = () => runSim(['runs', '--json', '--out', out]).stdout;

  it('exits 1 for a user or condition the run does not have (not found is not usage), 2 for a malformed id', () => {
    const before = runsJson();
    const missing = runSim(['show', 'user', '999999', '--out', out]);
    expect(missing.status).toBe(1);
    // With the ids the run holds: how many, the first few and the last.
    expect(missing.stderr).toMatch(/^sim: user 999999 is not in run 1: its 30 users have ids \d+, \d+, \d+, \d+, \d+, \.\.\., \d+ \(`sim export csv` lists them in personas\.csv\)\n$/);
    const condition = runSim(['show', 'user', '1', '--condition', 'nope', '--out', out]);
    expect(condition.status).toBe(1);
    expect(condition.stderr).toBe('sim: --condition: "nope" is not a condition of run 1 (control)\n');
    const malformed = runSim(['show', 'user', 'abc', '--out', out]);
    expect(malformed.status).toBe(2);
    expect(malformed.stderr).toBe('sim: user id: "abc" is not an integer\n');
    expect(runsJson()).toBe(before);
  });
});
