import { parentPort } from 'node:worker_threads';
import type { ExperimentConfig } from '../domain/config.js';
import { replicate } from './replicate.js';

type Message = { type: 'job'; index: number; config: ExperimentConfig } | { type: 'stop' };

/** Runs one replication and answers with its effects, or with why it failed. */
async function answer(index: number, config: ExperimentConfig): Promise<void> {
  try {
    parentPort!.postMessage({ type: 'result', index, replication: await replicate(config) });
  } catch (error) {
    parentPort!.postMessage({ type: 'error', index, message: error instanceof Error ? error.message : String(error) });
  }
}

/**
 * Runs offline replications one at a time as the main thread sends them ({ index, config }) and
 * answers each with its effects; results carry their index, so completion order changes nothing.
 */
parentPort!.on('message', (message: Message) => {
  if (message.type === 'stop') {
    parentPort!.close();
    return;
  }
  // Should even the error answer fail, the error is thrown out of the thread: the pool's 'error'
  // listener rejects the plan with it (an answer that never comes would leave the plan waiting).
  answer(message.index, message.config).catch((error: unknown) =>
    setImmediate(() => {
      throw error;
    }),
  );
});
