/**
 * A mutex shared by the threads of one process that append to the same database (conditions run in
 * worker threads). SQLite lets one writer in at a time and makes the others poll with sleeps of up
 * to 100 ms until busy_timeout, so a thread could lose the race for seconds and fail with
 * SQLITE_BUSY while its sibling kept appending. Waiting here instead wakes a thread the moment the
 * holder is done, and never times out. Other processes are still kept apart by SQLite itself.
 */
export class WriteLock {
  private readonly cell: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.cell = new Int32Array(buffer);
  }

  run<T>(work: () => T): T {
    while (Atomics.compareExchange(this.cell, 0, 0, 1) !== 0) Atomics.wait(this.cell, 0, 1);
    try {
      return work();
    } finally {
      Atomics.store(this.cell, 0, 0);
      Atomics.notify(this.cell, 0, 1);
    }
  }
}
