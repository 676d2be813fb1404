import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { RunBusyError } from '../errors.js';
import type { Lease, Store } from './port.js';

/**
 * One process at a time executes a run: it holds the run's lease from before it prints or writes
 * anything until it ends. A holder that dies must not block the run forever, so the lease is
 * something that lapses without its holder:
 * - PostgreSQL: a session advisory lock held on a connection of its own; the server frees it when
 *   the holder's connection ends (a kill -9, a crash, a host that vanished: its TCP keepalives stop).
 * - SQLite: a row the holder renews every HEARTBEAT_MS; a row not renewed for LEASE_EXPIRY_MS is
 *   stale, whoever wrote it (a frozen process, another host sharing the file). On this host a holder
 *   known to be gone (its process no longer exists, or is a zombie) is stale at once.
 * docs/storage.md, "Run leases", has the timings and why.
 */
export type { Lease };

/** How often a SQLite holder renews its lease. */
export const HEARTBEAT_MS = 5_000;
/** How long a SQLite lease lives without renewal: six missed heartbeats. */
export const LEASE_EXPIRY_MS = 30_000;

/**
 * Whether a process of this host may still hold a lease: false only when it certainly cannot (it
 * does not exist, or it has exited and waits to be reaped: a zombie holds no file, socket or lock).
 * A live process under a reused pid is true here: the heartbeat tells it apart.
 */
export function processMayHold(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}

/** Linux: the process has exited and not been reaped (state Z, or X while it is removed). */
function isZombie(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // "pid (command) state ...": the command may hold spaces and parentheses, so read after the last ')'.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return false;
  }
}

/**
 * Whether a SQLite lease row still binds other processes at `now` (ms): renewed within
 * LEASE_EXPIRY_MS and, when its holder is on this host, held by a process that may still hold it.
 * A row without a readable heartbeat (written by an older sim) is stale.
 */
export function leaseIsFresh(lease: Lease, now: number, host = hostname()): boolean {
  const beat = Date.parse(lease.heartbeatAt ?? '');
  if (!Number.isFinite(beat) || now - beat > LEASE_EXPIRY_MS) return false;
  return lease.host !== host || processMayHold(lease.pid);
}

export function currentLease(store: Pick<Store, 'currentLease'>, runId: number): Promise<Lease | null> {
  return store.currentLease(runId);
}

/** Takes the run's lease for this process; throws RunBusyError (one line naming the holder) when another live process has it. */
export async function acquireLease(store: Pick<Store, 'claimRun' | 'location'>, runId: number, now: string): Promise<void> {
  const held = await store.claimRun({ runId, host: hostname(), pid: process.pid, acquiredAt: now, heartbeatAt: now });
  if (held) throw new RunBusyError(`${store.location}: run ${runId} is being executed by ${holderName(held)}; wait for it to finish or stop it, then \`sim resume ${runId}\``);
}

function holderName(held: Lease): string {
  const who = held.pid > 0 ? `process ${held.pid} on ${held.host}` : 'another process';
  return held.acquiredAt ? `${who} (since ${held.acquiredAt})` : who;
}

/** Ends this process's lease of the run. */
export function releaseLease(store: Pick<Store, 'releaseLease'>, runId: number): Promise<void> {
  return store.releaseLease(runId);
}

/**
 * Runs `body` holding the run's lease: taken first (a refusal throws before `body` prints or writes
 * anything), released when it ends however it ends. A failed release is not the caller's error: the
 * lease lapses with this process anyway (its connection closes, its heartbeat stops).
 */
export async function withRunLease<T>(store: Pick<Store, 'claimRun' | 'releaseLease' | 'location'>, runId: number, body: () => Promise<T>): Promise<T> {
  await acquireLease(store, runId, new Date().toISOString());
  try {
    return await body();
  } finally {
    await releaseLease(store, runId).catch(() => undefined);
  }
}
