import { parentPort } from 'node:worker_threads';
import type { ExperimentConfig } from '../domain/config.js';
import { replicate } from './replicate.js';

/**
 * Runs offline replications one at a time as the main thread sends them ({ index, config }) and
 * answers each with its effects; results carry their index, so completion order changes nothing.
 */
parentPort!.on('message', async (message: { type: 'job'; index: number; config: ExperimentConfig } | { type: 'stop' }) => {
  if (message.type === 'stop') {
    parentPort!.close();
    return;
  }
  try {
    parentPort!.postMessage({ type: 'result', index: message.index, replication: await replicate(message.config) });
  } catch (error) {
    parentPort!.postMessage({ type: 'error', index: message.index, message: (error as Error).message });
  }
});
