import { conditionRuns, electionRound, WARMUP_STREAM, mainStartRound, type ConditionRun } from '../domain/config.js';
import { worldFold } from '../domain/evolve.js';
import { emptyWorld, type World } from '../domain/world.js';
import { foldStream } from '../events/fold.js';
import { streamId } from '../events/stream-ids.js';
import { conditionCost, dealByCost } from './deal.js';
import { checkpoint } from './decide.js';
import type { EngineOptions } from './engine-types.js';
import { streamFinished } from './run-status.js';
import { runCondition, runWarmup } from './stages.js';
import { runInWorkers, type ThreadProvider } from './workers.js';

export type { EngineOptions, Population, ProgressEvent } from './engine-types.js';
export { populationEvents } from './population-events.js';

/**
 * Runs an experiment on the event store: the warmup once, then every condition forked from the
 * warmup's end state, each in its own stream (./stages.ts), in this thread or in worker threads
 * (./workers.ts).
 */
export async function runExperiment(opts: EngineOptions): Promise<void> {
  const warmupId = opts.warmupStream ?? streamId(opts.runId, WARMUP_STREAM);
  let warmupEnd: World;
  if (opts.warmupStream) {
    warmupEnd = (await foldStream(opts.store, emptyWorld(), opts.warmupStream, worldFold)).state;
    if (!(await streamFinished(opts.store, opts.warmupStream))) throw new Error(`warmup stream ${opts.warmupStream} is not finished`);
  } else {
    warmupEnd = await runWarmup(opts, warmupId);
  }
  if (opts.warmupOnly) return;
  // A signal that arrived as the warmup ended must not start the conditions (or their threads).
  await checkpoint(opts.signal, mainStartRound(opts.config));
  const pending: ConditionRun[] = [];
  for (const c of conditionRuns(opts.config)) if (!(await streamFinished(opts.store, streamId(opts.runId, c.stream)))) pending.push(c);
  const workers = Math.min(opts.workers ?? 1, pending.length);
  const threadProvider: ThreadProvider | null = opts.provider.offline ? { kind: 'offline' } : (opts.threadProvider ?? null);
  if (workers > 1 && threadProvider) {
    const shares = dealByCost(await expectedCosts(opts, pending, warmupId), workers);
    await runInWorkers(opts, pending, shares, warmupId, warmupEnd, threadProvider);
  } else {
    await runConditions(opts, pending, warmupId, warmupEnd);
  }
}

/** Runs conditions one after another in this thread (also what each worker thread does with its share). */
export async function runConditions(opts: EngineOptions, conditions: ConditionRun[], warmupId: string, warmupEnd: World): Promise<void> {
  for (const condition of conditions) await runCondition(opts, condition, warmupId, warmupEnd);
}

/**
 * What each pending condition is expected to cost, in agent-turns (./deal.ts): the caller's figures
 * when it has them (a replay knows each recorded stream's events), else the main rounds each has
 * left at the warmup's average activity plus its election day. Fresh conditions all cost the same,
 * so the warmup is read only when a resumed run has conditions at different rounds.
 */
export async function expectedCosts(opts: EngineOptions, pending: ConditionRun[], warmupId: string): Promise<number[]> {
  const given = opts.conditionCosts;
  if (given && pending.every((c) => given.has(c.stream))) return pending.map((c) => given.get(c.stream)!);
  const first = mainStartRound(opts.config);
  const last = electionRound(opts.config);
  const done = await Promise.all(pending.map(async (c) => Math.max(first - 1, (await opts.store.maxRoundOf(streamId(opts.runId, c.stream), 'RoundCompleted')) ?? first - 1)));
  let activePerRound = opts.config.n_users;
  if (new Set(done).size > 1) {
    let rounds = 0;
    let active = 0;
    for await (const page of opts.store.eventsOfTypes(warmupId, ['RoundCompleted'])) {
      for (const row of page) {
        rounds += 1;
        active += (JSON.parse(row.payload) as { activeAgents: number }).activeAgents;
      }
    }
    if (rounds > 0) activePerRound = active / rounds;
  }
  return done.map((d) => conditionCost({ roundsLeft: last - d, activePerRound, electionLeft: true, agents: opts.config.n_users }));
}
