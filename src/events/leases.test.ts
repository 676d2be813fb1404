import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunBusyError } from '../errors.js';
import { acquireLease, currentLease, releaseLease } from './leases.js';
import { EventStore } from './store.js';

let dir: string;
let store: EventStore;
let runId: number;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sim-lease-'));
  store = await EventStore.open(dir);
  runId = await store.createRun({ seed: 1, config: {}, codeVersion: 't', createdAt: 'now' });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const holdAs = (pid: number, host = hostname()) =>
  store.sqlite.prepare('insert into run_leases (run_id, host, pid, acquired_at) values (?, ?, ?, ?)').run(runId, host, pid, 'earlier');

describe('run leases', () => {
  it('refuse a second process while the holder is alive, naming it', () => {
    holdAs(process.ppid);
    expect(() => acquireLease(store, runId, 'now')).toThrow(RunBusyError);
    expect(() => acquireLease(store, runId, 'now')).toThrow(new RegExp(`run ${runId} is being executed by process ${process.ppid}`));
  });

  it('are taken over when the holder is gone (killed), and released by their owner', async () => {
    holdAs(2 ** 22 + 12345);
    acquireLease(store, runId, 'now');
    expect(currentLease(store, runId)).toMatchObject({ pid: process.pid });
    expect((await store.listRuns())[0].status).toBe('running');
    releaseLease(store, runId);
    expect(currentLease(store, runId)).toBeNull();
    expect((await store.listRuns())[0].status).toBe('interrupted');
  });

  it('respect a lease held from another host, whose process cannot be checked', () => {
    holdAs(1, 'some-other-host');
    expect(() => acquireLease(store, runId, 'now')).toThrow(/on some-other-host/);
  });
});
