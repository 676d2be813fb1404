import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../src/events/schema.js';

export const SIM_BIN = fileURLToPath(new URL('../bin/sim.js', import.meta.url));
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Runs the real `sim` executable as a child process, as a user would. */
export function runSim(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; uid?: number; gid?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [SIM_BIN, ...args], {
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
