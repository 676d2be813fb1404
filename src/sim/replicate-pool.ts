import { Worker } from 'node:worker_threads';
import type { ExperimentConfig } from '../domain/config.js';
import type { Replication } from './replicate.js';

/**
 * Runs offline replications in `threads` worker threads, each taking the next config when it
 * finishes one. Results are returned in the order of `configs` whatever order they finish in.
 */
export async function replicateInWorkers(configs: readonly ExperimentConfig[], threads: number, onDone?: (done: number) => void): Promise<Replication[]> {
  const results: Replication[] = new Array(configs.length);
  let next = 0;
  let done = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(threads, configs.length)) }, () => new Worker(new URL('./replicate-worker.js', import.meta.url)));
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const feed = () => {
              if (next >= configs.length) {
                resolve();
                return;
              }
              const index = next++;
              worker.postMessage({ type: 'job', index, config: configs[index] });
            };
            worker.on('message', (m: { type: 'result'; index: number; replication: Replication } | { type: 'error'; index: number; message: string }) => {
              if (m.type === 'error') {
                reject(new Error(`replication ${m.index + 1} (seed ${configs[m.index].seed}): ${m.message}`));
                return;
              }
              results[m.index] = m.replication;
              onDone?.(++done);
              feed();
            });
            worker.on('error', reject);
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
