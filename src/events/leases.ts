import { hostname } from 'node:os';
import { RunBusyError } from '../errors.js';
import type { EventStore } from './store.js';

/**
 * One process at a time executes a run. The lease names the process; a lease whose process no
 * longer exists (a kill -9, a crash) is stale and is taken over. Only processes on this host can be
 * checked for liveness, so a lease held from another host is always respected.
 */
export interface Lease {
  runId: number;
  host: string;
  pid: number;
  acquiredAt: string;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function leaseIsLive(lease: Lease): boolean {
  if (lease.host !== hostname()) return true;
  return lease.pid === process.pid || processAlive(lease.pid);
}

export function currentLease(store: EventStore, runId: number): Lease | null {
  const row = store.sqlite.prepare('select run_id, host, pid, acquired_at from run_leases where run_id = ?').get(runId) as
    | { run_id: number; host: string; pid: number; acquired_at: string }
    | undefined;
  return row ? { runId: row.run_id, host: row.host, pid: row.pid, acquiredAt: row.acquired_at } : null;
}

export function acquireLease(store: EventStore, runId: number, now: string): void {
  store.sqlite
    .transaction(() => {
      const held = currentLease(store, runId);
      if (held && held.pid !== process.pid && leaseIsLive(held)) {
        throw new RunBusyError(
          `${store.file}: run ${runId} is being executed by process ${held.pid} on ${held.host} (since ${held.acquiredAt}); wait for it to finish or stop it, then \`sim resume ${runId}\``,
        );
      }
      store.sqlite
        .prepare('insert into run_leases (run_id, host, pid, acquired_at) values (?, ?, ?, ?) on conflict (run_id) do update set host = excluded.host, pid = excluded.pid, acquired_at = excluded.acquired_at')
        .run(runId, hostname(), process.pid, now);
    })
    .immediate();
}

export function releaseLease(store: EventStore, runId: number): void {
  store.sqlite.prepare('delete from run_leases where run_id = ? and host = ? and pid = ?').run(runId, hostname(), process.pid);
}
