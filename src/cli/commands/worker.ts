import type { Command } from 'commander';
import { runWorker, type WorkerEvent, type WorkerOptions } from '../../api/distributed.js';
import { storeLine } from '../../api/store.js';
import { onInterrupt } from '../interrupt.js';
import { addLlmOptions, DEFAULT_OUT, integerFlag } from '../options.js';

/** `sim worker`: takes jobs from a PostgreSQL store's queue and executes them until stopped (Ctrl-C, SIGTERM). */
export function registerWorker(program: Command): void {
  const command = program
    .command('worker')
    .description('take jobs (a run\'s warmup, its conditions) from a PostgreSQL store and execute them until stopped')
    .option('--out <dir>', 'output directory (holds logs/worker-NAME.log)', DEFAULT_OUT)
    .option('--jobs <n>', 'jobs executed at a time (default 1); offline jobs run in a worker thread each', integerFlag('--jobs', 1))
    .option('--name <name>', 'this worker\'s name in `sim status` (default host:pid)')
    .option('--concurrency <n>', 'LLM requests in flight per endpoint, shared by this worker\'s jobs (default 32)', integerFlag('--concurrency', 1))
    .option('--takeover <seconds>', 'the takeover bound this worker serves: it returns expired jobs of dead workers to the queue every 0.15 x this many seconds (default 60)', integerFlag('--takeover', 20));
  addLlmOptions(command).action(async (opts: WorkerOptions) => {
    await runWorker(opts, {
      onEvent: (event) => {
        const line = event.kind === 'started' ? `sim worker ${event.name}: waiting for jobs (${event.jobs} at a time) from ${storeLine(opts)}` : describe(event);
        if (line) process.stderr.write(`${line}\n`);
      },
      onStopRequest: (stop) =>
        onInterrupt((signal) => {
          process.stderr.write(`sim worker: ${signal}: releasing jobs at the next round boundary; ${signal === 'SIGINT' ? 'Ctrl-C' : signal} again quits at once\n`);
          stop();
        }),
    });
  });
}

function describe(e: WorkerEvent): string | null {
  const at = `run ${'runId' in e ? e.runId : ''}`;
  switch (e.kind) {
    case 'started':
      return null; // said with the store, above
    case 'job':
      return `${at} ${e.stream}: started${e.fromRound !== null ? ` after round ${e.fromRound}` : ''}${e.thread !== null ? ` in thread ${e.thread}` : ''}`;
    case 'progress':
      return null;
    case 'sliced':
      return `${at} ${e.stream}: slice ended before round ${e.round}; re-enqueued`;
    case 'released':
      return `${at} ${e.stream}: released before round ${e.round}`;
    case 'done':
      return `${at} ${e.stream}: done${e.next.length ? `; enqueued ${e.next.join(', ')}` : ''}${e.runFinished ? `; run ${e.runId} finished` : ''}`;
    case 'dropped':
      return `${at} ${e.stream}: job dropped (${e.reason})`;
    case 'failed':
      return `${at} ${e.stream}: ${e.permanent ? 'failed (not retried)' : 'failed, will be retried'}: ${e.reason}`;
    case 'store-lost':
      return `sim worker: ${e.reason}; asking for jobs again in ${e.retrySeconds} s`;
    case 'capped':
      return `${at} ${e.stream}: ${e.reason}`;
  }
}
