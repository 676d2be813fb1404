/**
 * A PostgreSQL server for the bench's distributed rows: SIM_BENCH_PG_URL's server when given, else a
 * throwaway cluster started the way .ci/run starts CI's (initdb into a temporary folder, a loopback
 * port, a random password, run as the `postgres` user when the bench runs as root), stopped and
 * removed afterwards. Without PostgreSQL's binaries there is no server, and the reason says so.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface PgServer {
  /** A URL of the server (its `postgres` database); the bench creates a database of its own per case. */
  url: string;
  stop(): void;
}

/** The newest installed PostgreSQL's bin folder, or null. */
function pgBin(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl')) && existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(a) - Number(b));
  return versions.length ? join(base, versions[versions.length - 1], 'bin') : null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The server to use, or why there is none. */
export async function benchPostgres(): Promise<PgServer | { skip: string }> {
  const given = process.env.SIM_BENCH_PG_URL?.trim();
  if (given) return { url: given, stop: () => undefined };
  const bin = pgBin();
  if (!bin) return { skip: 'no PostgreSQL binaries (/usr/lib/postgresql/*/bin/initdb, pg_ctl) and SIM_BENCH_PG_URL is not set' };
  const root = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), 'sim-bench-pg-'));
  const user = root ? 'postgres' : userInfo().username;
  const as = (cmd: string, args: string[]) => {
    if (!root) return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const quoted = [cmd, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    return execFileSync('su', [user, '-s', '/bin/sh', '-c', quoted], { stdio: ['ignore', 'pipe', 'pipe'] });
  };
  const password = randomBytes(12).toString('hex');
  const port = Number(process.env.SIM_BENCH_PG_PORT) || (await freePort());
  const stop = () => {
    try {
      as(join(bin, 'pg_ctl'), ['-D', join(dir, 'data'), '-m', 'immediate', 'stop']);
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    writeFileSync(join(dir, 'pw'), `${password}\n`);
    if (root) {
      const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
      chownSync(dir, uid, gid);
      chownSync(join(dir, 'pw'), uid, gid);
    }
    as(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-U', 'sim', '-A', 'scram-sha-256', `--pwfile=${join(dir, 'pw')}`]);
    rmSync(join(dir, 'pw'));
    as(join(bin, 'pg_ctl'), ['-D', join(dir, 'data'), '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`, 'start']);
  } catch (error) {
    stop();
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return { skip: `a throwaway PostgreSQL cluster did not start (${stderr || (error as Error).message})` };
  }
  return { url: `postgres://sim:${password}@127.0.0.1:${port}/postgres`, stop };
}

let databases = 0;

/** A new empty database on the server; returns its URL and how to drop it. */
export async function freshDatabase(serverUrl: string, label: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const pg = (await import('pg')).default;
  databases += 1;
  const name = `sim_bench_${label}_${process.pid}_${databases}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
