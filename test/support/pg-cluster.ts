import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A PostgreSQL cluster of a test's own (initdb into a temporary folder, a free loopback port), for
 * the fault tests that restart the server: the shared server of SIM_TEST_PG_URL is never restarted.
 * Run as user `postgres` when the tests run as root (PostgreSQL refuses root), as .ci/run does.
 */
export interface PgCluster {
  /** The URL of a fresh database on this cluster. */
  database(name: string): Promise<string>;
  /** `pg_ctl restart -m fast`: every connection is dropped; returns once the server accepts connections again. */
  restart(): void;
  stop(): void;
}

/** The folder of PostgreSQL's programs (the newest version installed), or null. */
function pgBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
      .sort((a, b) => Number(a) - Number(b));
    if (versions.length > 0) return join(root, versions.at(-1)!, 'bin');
  }
  const found = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path ? join(path, '..') : null;
}

/** Why a cluster of our own cannot be started here, or null when it can. */
export function pgClusterUnavailable(): string | null {
  const bin = pgBin();
  if (!bin || !existsSync(join(bin, 'initdb'))) return 'the PostgreSQL server programs (initdb, pg_ctl) are not installed';
  if (process.getuid?.() === 0 && spawnSync('id', ['postgres']).status !== 0) return 'running as root and there is no user postgres to run the server as';
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startPgCluster(): Promise<PgCluster> {
  const bin = pgBin();
  if (!bin) throw new Error('the PostgreSQL server programs are not installed');
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'sim-fault-pg-'));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const run = (program: string, args: string[]) => {
    const result = asRoot
      ? spawnSync('su', ['postgres', '-s', '/bin/sh', '-c', [join(bin, program), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')], { encoding: 'utf8' })
      : spawnSync(join(bin, program), args, { encoding: 'utf8' });
    if (result.status !== 0) {
      const log = existsSync(join(dir, 'server.log')) ? readFileSync(join(dir, 'server.log'), 'utf8') : '';
      throw new Error(`${program} ${args.join(' ')} failed: ${result.stderr}${result.stdout}\n${log}`);
    }
  };
  const port = await freePort();
  const data = join(dir, 'data');
  // Trust on loopback: a throwaway cluster reachable from this machine only, for the test's lifetime.
  run('initdb', ['-D', data, '-U', 'sim', '-A', 'trust', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start']);
  const server = `postgres://sim@127.0.0.1:${port}`;
  return {
    async database(name) {
      const pg = (await import('pg')).default;
      const admin = new pg.Client({ connectionString: `${server}/postgres` });
      await admin.connect();
      try {
        await admin.query(`create database ${name}`);
      } finally {
        await admin.end();
      }
      return `${server}/${name}`;
    },
    restart() {
      run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-m', 'fast', '-w', '-t', '60', '-o', options, 'restart']);
    },
    stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      } catch {
        // not running
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
