// A thread for write-lock.test.ts: reads a shared counter, dawdles, and writes it back plus one,
// under the lock. Without mutual exclusion two such threads overwrite each other's increments.
import { register } from 'tsx/esm/api';
import { parentPort, workerData } from 'node:worker_threads';

register();
const { WriteLock } = await import('../../src/events/sqlite/write-lock.ts');
const lock = new WriteLock(workerData.lock);
const counter = new Int32Array(workerData.counter);
// Start together: cell 1 counts the threads ready, and nobody starts before all are.
Atomics.add(counter, 1, 1);
while (Atomics.load(counter, 1) < workerData.threads);
for (let i = 0; i < workerData.n; i++) {
  lock.run(() => {
    const value = Atomics.load(counter, 0);
    let spin = 0;
    for (let k = 0; k < 2000; k++) spin += k;
    Atomics.store(counter, 0, value + (spin >= 0 ? 1 : 0));
  });
}
parentPort.postMessage('done');
