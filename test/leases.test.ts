import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { eventCodec, type SimEvent } from '../src/domain/events.js';
import { acquireLease, LEASE_EXPIRY_MS, releaseLease } from '../src/events/leases.js';
import { directoryStore, openStore, parseStoreLocation } from '../src/events/open-store.js';
import type { Store } from '../src/events/port.js';
import type { PostgresStore } from '../src/events/postgres/store.js';
import type { SqliteStore } from '../src/events/sqlite/store.js';
import { PROJECT_ROOT, SIM_BIN, runSim } from './helpers.js';
import { freshPostgresDatabase, postgresForTests, postgresRequired } from './support/store-backends.js';
import { writeUsersDir } from './support/users-files.js';

/**
 * One process at a time executes a run, and a holder that died never blocks it (docs/storage.md,
 * "Run leases"), end to end with `sim` on both backends: a live holder refuses `sim resume` in one
 * line; a holder killed with kill -9, one left a zombie, or one on another host that stopped
 * renewing its lease does not block the next resume.
 */
const scratch = mkdtempSync(join(tmpdir(), 'sim-leases-'));
const users = writeUsersDir(join(scratch, 'users'), 150);
const runArgs = ['run', '--users-dir', users, '--n-users', '120', '--seed', '9', '--conditions', 'control'];
const pg = postgresForTests();
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
});

interface Place {
  /** The flags naming the store. */
  where: string[];
  open(): Promise<Store<SimEvent>>;
}

const backends: Array<{ name: string; skip: string | null; place: (out: string) => Promise<Place> }> = [
  { name: 'sqlite', skip: null, place: async (out) => ({ where: ['--out', out], open: async () => (await openStore<SimEvent>(directoryStore(out), eventCodec))! }) },
  {
    name: 'postgres',
    skip: pg.url || postgresRequired ? null : pg.reason,
    place: async (out) => {
      if (!pg.url) throw new Error(`SIM_REQUIRE_POSTGRES=1 but ${pg.reason}`);
      const db = await freshPostgresDatabase(pg.url);
      cleanups.push(db.drop);
      return { where: ['--out', out, '--store', db.url], open: async () => (await openStore<SimEvent>(parseStoreLocation(db.url), eventCodec))! };
    },
  },
];

async function exec(store: Store<SimEvent>, text: string): Promise<void> {
  if (store.backend === 'sqlite') (store as SqliteStore<SimEvent>).sqlite.prepare(text).run();
  else await sql.raw(text).execute((store as PostgresStore<SimEvent>).db);
}

const runOf = (where: string[]) => (JSON.parse(runSim(['runs', '--json', ...where]).stdout) as Array<{ id: number; status: string; events: number; fingerprint: string }>)[0];

/** Resolves once the child has printed a progress line (a round recorded under its lease). */
function firstProgress(child: ChildProcessWithoutNullStreams): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stderr.on('data', (c: Buffer) => {
      text += c.toString();
      if (/ agents /.test(text)) resolve();
      // A refusal (the wrapper of the zombie test lives on as `sleep`, so its exit would not say).
      if (/is being executed/.test(text)) reject(new Error(text));
    });
    child.on('exit', (code, signal) => reject(new Error(`ended (${code ?? signal}) before its first round: ${text}`)));
  });
}

/** `sim resume` refused: exit 1, one line naming the holder, no stack, nothing on stdout. */
function expectRefused(result: ReturnType<typeof runSim>, holder: RegExp): void {
  expect(result.status, result.stderr).toBe(1);
  expect(result.stdout).toBe('');
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^sim: .+: run 1 is being executed by process /);
  expect(lines[0]).toMatch(holder);
  expect(lines[0]).toMatch(/wait for it to finish or stop it, then `sim resume 1`$/);
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

describe.each(backends)('run leases on $name', (backend) => {
  if (backend.skip) console.warn(`lease tests on ${backend.name} skipped: ${backend.skip}`);
  const test = it.skipIf(backend.skip !== null);
  let place: Place;

  test('a run killed with kill -9 holds nothing: it shows as interrupted, and its lease is free', async () => {
    place = await backend.place(join(scratch, backend.name));
    const child = spawn(process.execPath, [SIM_BIN, ...runArgs, ...place.where], { cwd: PROJECT_ROOT, env: { ...process.env, OPENAI_API_KEY: '' } });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await firstProgress(child);
    child.kill('SIGKILL');
    await exited;
    expect(runOf(place.where).status).toBe('interrupted');
    const store = await place.open();
    try {
      expect(await store.currentLease(1)).toBeNull();
    } finally {
      await store.close();
    }
  }, 120_000);

  test('a live holder refuses `sim resume` in one line with exit 1 and nothing written; once it releases, the run is free', async () => {
    const store = await place.open();
    try {
      const before = runOf(place.where);
      await acquireLease(store, 1, new Date().toISOString());
      expect(runOf(place.where).status).toBe('running');
      expectRefused(runSim(['resume', '1', ...place.where]), new RegExp(`by process ${process.pid} on ${hostname()} \\(since `));
      // Not even the log was started, and the run is as it was.
      expect(runOf(place.where)).toEqual({ ...before, status: 'running' });
      await releaseLease(store, 1);
      expect(runOf(place.where).status).toBe('interrupted');
    } finally {
      await releaseLease(store, 1);
      await store.close();
    }
  }, 120_000);

  test('a holder on another host blocks while it renews its lease, and not once it stopped', async () => {
    const holder = await place.open();
    const now = new Date().toISOString();
    expect(await holder.claimRun({ runId: 1, host: 'elsewhere.example', pid: 4242, acquiredAt: now, heartbeatAt: now })).toBeNull();
    expectRefused(runSim(['resume', '1', ...place.where]), /by process 4242 on elsewhere\.example/);
    // The other host stops: on SQLite its heartbeat stops (and LEASE_EXPIRY_MS passes, written
    // here), on PostgreSQL the server drops its session (here: closed), which frees the lock.
    await holder.close();
    const store = await place.open();
    try {
      if (store.backend === 'sqlite') {
        // Stopped only a moment ago: still respected, a holder on another host cannot be asked.
        expectRefused(runSim(['resume', '1', ...place.where]), /on elsewhere\.example/);
        await exec(store, `update run_leases set heartbeat_at = '${new Date(Date.now() - LEASE_EXPIRY_MS - 1_000).toISOString()}'`);
      }
      // Its row is still there, naming it; it binds no one.
      expect(await store.currentLease(1)).toBeNull();
      if (store.backend === 'sqlite') expect((store as SqliteStore<SimEvent>).sqlite.prepare('select host from run_leases').get()).toEqual({ host: 'elsewhere.example' });
    } finally {
      await store.close();
    }
    // The next test's resume starts under this stale lease.
  }, 120_000);

  it.skipIf(backend.skip !== null || process.platform !== 'linux')('a holder killed and left a zombie (exited, never reaped) does not block the next resume, which finishes the run', async () => {
    // sh starts `sim resume` in the background and becomes `sleep`, which never reaps it: killed,
    // the resume stays a zombie whose pid still exists.
    const wrapper = spawn('sh', ['-c', '"$0" "$@" & echo $!; exec sleep 120', process.execPath, SIM_BIN, 'resume', '1', ...place.where], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, OPENAI_API_KEY: '' },
    });
    cleanups.push(() => void wrapper.kill('SIGKILL'));
    const pid = await new Promise<number>((resolve) => wrapper.stdout.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))));
    // The stale lease of the other host (previous test) did not keep it from starting.
    await firstProgress(wrapper);
    process.kill(pid, 'SIGKILL');
    await expect.poll(() => processState(pid), { timeout: 10_000 }).toBe('Z');
    if (backend.name === 'sqlite') {
      // What the old check judged by: the holder's pid still exists, on this host.
      const store = await place.open();
      try {
        expect((store as SqliteStore<SimEvent>).sqlite.prepare('select host, pid from run_leases').get()).toEqual({ host: hostname(), pid });
      } finally {
        await store.close();
      }
    }
    expect(() => process.kill(pid, 0)).not.toThrow();
    expect(runOf(place.where).status).toBe('interrupted');
    const resumed = runSim(['resume', '1', ...place.where]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming run 1 after/);
    expect(runOf(place.where).status).toBe('finished');
    wrapper.kill('SIGKILL');
  }, 180_000);
});
