import { hostname } from 'node:os';
import { RunBusyError } from '../errors.js';
import type { Lease, Store } from './port.js';

/**
 * One process at a time executes a run. The lease names the process; a lease whose process no
 * longer exists (a kill -9, a crash) is stale and is taken over. Only processes on this host can be
 * checked for liveness, so a lease held from another host is always respected.
 */
export type { Lease };

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

export function currentLease(store: Pick<Store, 'currentLease'>, runId: number): Promise<Lease | null> {
  return store.currentLease(runId);
}

export async function acquireLease(store: Pick<Store, 'claimRun' | 'location'>, runId: number, now: string): Promise<void> {
  const held = await store.claimRun({ runId, host: hostname(), pid: process.pid, acquiredAt: now }, leaseIsLive);
  if (held) {
    throw new RunBusyError(
      `${store.location}: run ${runId} is being executed by process ${held.pid} on ${held.host} (since ${held.acquiredAt}); wait for it to finish or stop it, then \`sim resume ${runId}\``,
    );
  }
}

export function releaseLease(store: Pick<Store, 'releaseLease'>, runId: number): Promise<void> {
  return store.releaseLease(runId, hostname(), process.pid);
}
