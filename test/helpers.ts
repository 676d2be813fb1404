import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../src/events/schema.js';

export const SIM_BIN = fileURLToPath(new URL('../bin/sim.js', import.meta.url));
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Runs the real `sim` executable as a child process, as a user would. */
export function runSim(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; uid?: number; gid?: number; bin?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [options.bin ?? SIM_BIN, ...args], {
    uid: options.uid,
    gid: options.gid,
    cwd: options.cwd ?? PROJECT_ROOT,
    env: { ...process.env, OPENAI_API_KEY: '', ...options.env },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
  });
}

/** Like runSim, without blocking this process (needed when the test itself serves the child). */
export function runSimAsync(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SIM_BIN, ...args], { cwd: options.cwd ?? PROJECT_ROOT, env: { ...process.env, OPENAI_API_KEY: '', ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Every event of a stream, read a page at a time from the store. */
export async function readAll<E>(store: { readStream(stream: string): AsyncIterable<E[]> }, stream: string): Promise<E[]> {
  const out: E[] = [];
  for await (const page of store.readStream(stream)) out.push(...page);
  return out;
}

/** The SQLite handles behind a store opened on a directory (tests read and tamper with rows directly). */
export function sqliteOf(store: unknown): { db: Kysely<Database>; sqlite: import('better-sqlite3').Database } {
  const s = store as { backend?: string; sqlite?: import('better-sqlite3').Database };
  if (s.backend !== 'sqlite' || !s.sqlite) throw new Error('sqliteOf: not a SQLite store');
  // The store itself queries with plain SQL; kysely here is the tests' convenience over the same handle.
  return { sqlite: s.sqlite, db: new Kysely<Database>({ dialect: new SqliteDialect({ database: s.sqlite }) }) };
}

/**
 * The `sim` another user can run (root's tests run the read-only cases as "nobody", since root writes
 * anywhere): bin/sim.js itself when that user can reach it, else a copy of what it runs (bin/, dist/,
 * the one native package the build leaves external) made readable under `dir`, for a clone inside a
 * folder only its owner can enter (`mktemp -d`); or why neither works, to skip with.
 */
export function simBinFor(as: { uid: number; gid: number }, dir: string): { bin: string; copied: boolean } | { skip: string } {
  const works = (bin: string) => spawnSync(process.execPath, [bin, '--version'], { ...as, cwd: '/', encoding: 'utf8', timeout: 60_000 });
  const direct = works(SIM_BIN);
  if (direct.status === 0) return { bin: SIM_BIN, copied: false };
  const copy = join(dir, 'sim-for-other-user');
  try {
    for (const path of ['bin', 'dist', 'package.json', 'scripts/build-state.mjs', 'node_modules/bindings', 'node_modules/file-uri-to-path', 'node_modules/better-sqlite3/package.json', 'node_modules/better-sqlite3/lib', 'node_modules/better-sqlite3/build/Release/better_sqlite3.node']) {
      cpSync(join(PROJECT_ROOT, path), join(copy, path), { recursive: true, preserveTimestamps: true });
    }
    const open = (path: string) => {
      chmodSync(path, statSync(path).isDirectory() ? 0o755 : 0o644);
      if (statSync(path).isDirectory()) for (const name of readdirSync(path)) open(join(path, name));
    };
    mkdirSync(copy, { recursive: true });
    open(copy);
    chmodSync(join(copy, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'), 0o755);
  } catch (error) {
    return { skip: `${SIM_BIN} cannot be run by uid ${as.uid} (${firstLine(direct)}) and a readable copy could not be made (${(error as Error).message})` };
  }
  const copied = works(join(copy, 'bin/sim.js'));
  if (copied.status === 0) return { bin: join(copy, 'bin/sim.js'), copied: true };
  return { skip: `neither ${SIM_BIN} nor a readable copy of it can be run by uid ${as.uid}: ${firstLine(direct)}; the copy: ${firstLine(copied)}` };
}

function firstLine(result: SpawnSyncReturns<string>): string {
  const text = `${result.error?.message ?? ''}\n${result.stderr ?? ''}`;
  return text.split('\n').find((l) => /Error|EACCES|denied|Cannot/.test(l))?.trim() ?? `exit ${result.status}`;
}
