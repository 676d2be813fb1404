import type { Command } from 'commander';
import { parseExperiment, roundsInRun } from '../../domain/config.js';
import { streamId } from '../../events/stream-ids.js';
import { WARMUP_STREAM } from '../../domain/config.js';
import { loadPopulation } from '../../sim/population.js';
import { roundsRecorded, runComplete } from '../../sim/run-status.js';
import { DEFAULT_OUT } from '../program.js';
import { openStoreWithRuns, selectRun } from '../run-select.js';
import { LlmCache } from '../../llm/cache.js';
import { addLlmOptions, checkEndpoints, maxFallbackRate, type LlmFlags } from '../llm-options.js';
import { chooseProvider, executeRun, integerFlag } from './run.js';

export function registerResume(program: Command): void {
  const command = program
    .command('resume')
    .description('continue an interrupted run from its last complete round (the cache answers what was already paid for)')
    .argument('[run]', 'run id (default: the latest run)')
    .option('--out <dir>', 'output directory holding sim.db', DEFAULT_OUT)
    .option('--concurrency <n>', 'LLM requests in flight (default 32)', integerFlag('--concurrency', 1));
  addLlmOptions(command).action(async (runArg: string | undefined, opts: { out: string; concurrency?: number } & LlmFlags) => {
      const store = await openStoreWithRuns(opts);
      try {
        const runId = await selectRun(store, runArg);
        const run = await store.getRun(runId);
        const config = parseExperiment(run.config, `run ${runId} config`);
        if (await runComplete(store, runId, config)) {
          if (run.status !== 'finished') await store.setRunStatus(runId, 'finished');
          process.stdout.write(`run ${runId} is already finished (fingerprint ${await store.fingerprint(runId)})\n`);
          return;
        }
        // Only a run killed before its first batch needs the user files again; otherwise the
        // population is in the log.
        const needsPopulation = !config.from_warmup && (await store.head(streamId(runId, WARMUP_STREAM))).position === 0;
        // Endpoints are not part of the run's identity: --base-url points it at another server.
        await checkEndpoints(config, opts);
        if (config.provider === 'openai') {
          const unanswered = await new LlmCache(store).countUnanswered();
          if (unanswered > 0) process.stderr.write(`sim: ${unanswered} cached request${unanswered === 1 ? ' was' : 's were'} never answered (transport failures stored by an older sim): asked again\n`);
        }
        const provider = chooseProvider(config, { store, concurrency: opts.concurrency, llm: opts });
        try {
          const done = await roundsRecorded(store, runId);
          process.stderr.write(`sim: resuming run ${runId} after ${done} of ${roundsInRun(config)} rounds\n`);
          await executeRun(store, runId, config, provider, needsPopulation ? loadPopulation(config) : null, opts.out, undefined, done, maxFallbackRate(opts));
        } finally {
          await provider.close?.();
        }
      } finally {
        await store.close();
      }
    });
}

