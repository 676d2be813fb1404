import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { WriteLock } from './write-lock.js';

describe('WriteLock', () => {
  it('returns what the work returns and frees the lock even when the work throws', () => {
    const lock = new WriteLock();
    expect(lock.run(() => 7)).toBe(7);
    expect(() => lock.run(() => { throw new Error('boom'); })).toThrow('boom');
    expect(lock.run(() => 'free again')).toBe('free again');
  });

  it('lets one thread at a time in: no increment of a shared counter is lost', async () => {
    const lock = new WriteLock();
    const counter = new SharedArrayBuffer(8);
    const n = 20_000;
    const threads = [0, 1].map(
      () =>
        new Promise<void>((resolve, reject) => {
          const worker = new Worker(new URL('../../../test/support/write-lock-thread.js', import.meta.url), { workerData: { lock: lock.buffer, counter, n, threads: 2 } });
          worker.once('message', () => void worker.terminate().then(() => resolve()));
          worker.once('error', reject);
        }),
    );
    await Promise.all(threads);
    expect(new Int32Array(counter)[0]).toBe(2 * n);
  }, 30_000);
});
