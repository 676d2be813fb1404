import { WARMUP_STREAM, electionRound, mainStartRound, periodOf, periodStart, type ConditionRun } from '../domain/config.js';
import { applyVote, buildVoteRequest } from '../domain/election.js';
import { makeEvent, type SimEvent } from '../domain/events.js';
import { evolveAll, worldFold } from '../domain/evolve.js';
import { feedContext } from '../domain/feed.js';
import { assignTreatment, countLikelyVoters } from '../domain/treatment.js';
import { applyTurn, buildTurnRequest, newLedger, type TurnContext } from '../domain/turn.js';
import { emptyWorld, type World } from '../domain/world.js';
import { InterruptedError } from '../errors.js';
import { foldStream } from '../events/fold.js';
import { streamId, streamRef } from '../events/stream-ids.js';
import { projectEvents } from '../projections/writer.js';
import { checkpoint, decideAll } from './decide.js';
import type { EngineOptions } from './engine-types.js';
import { FallbackBudget } from './fallback-budget.js';
import { setupEvents } from './setup.js';
import type { EventStore } from './store.js';

/**
 * The stages of a run on its streams: the warmup (setup batch, then rounds), and a condition (forked
 * from the warmup's end state, rounds with treatment, the election). Each round is decided from the
 * state at its start (all agents concurrently through the provider), applied in ascending agent id
 * order, and appended with its projection rows in one transaction. A stream is continued from its
 * last complete round, which is how interrupted runs resume.
 */
export async function runWarmup(opts: EngineOptions, id: string): Promise<World> {
  const { store, config } = opts;
  const stream = { id, name: WARMUP_STREAM };
  let { state, position, finished } = await foldOrRecall(opts, emptyWorld(), id);
  if (finished) return state;
  if (position === 0) {
    if (!opts.population) throw new Error('a new run needs a population');
    const setup = await setupEvents(opts, opts.population);
    await store.append({ runId: opts.runId, stream, expectedPosition: 0, events: setup, projections: projectEvents(opts.runId, stream.id, setup) });
    state = evolveAll(state, setup);
    position = setup.length;
  }
  const writer: StreamWriter = { store, runId: opts.runId, stream, position };
  const start = config.warmup.start_round;
  const end = config.warmup.end_round;
  const budget = opts.maxFallbackRate === undefined ? null : new FallbackBudget(WARMUP_STREAM, opts.maxFallbackRate);
  state = await runRounds(opts, writer, state, 'warmup', Math.max(start, state.round + 1), end, end - start + 1, null, budget);
  const completed = [makeEvent('StageCompleted', { stage: WARMUP_STREAM }, end)];
  writer.position = await appendBatch(writer, completed);
  state = evolveAll(state, completed);
  opts.onStreamEnd?.(WARMUP_STREAM, state);
  return state;
}

export async function runCondition(opts: EngineOptions, condition: ConditionRun, warmupId: string, warmupEnd: World): Promise<void> {
  const { store, config } = opts;
  const id = streamId(opts.runId, condition.stream);
  const stream = { id, name: condition.stream };
  let { state, position, finished } = await foldOrRecall(opts, warmupEnd, id);
  if (finished) return;
  const writer: StreamWriter = { store, runId: opts.runId, stream, position };
  if (position === 0) {
    const head = await store.head(warmupId);
    const started = [
      makeEvent('StageStarted', { stage: 'main', condition: condition.condition, treatmentSeed: condition.treatmentSeed, forkedFrom: { stream: streamRef(opts.runId, warmupId), position: head.position, hash: head.hash } }, config.warmup.end_round),
    ];
    writer.position = await appendBatch(writer, started);
    state = evolveAll(state, started);
  }
  const start = mainStartRound(config);
  const end = electionRound(config);
  const budget = opts.maxFallbackRate === undefined ? null : new FallbackBudget(condition.stream, opts.maxFallbackRate);
  state = await runRounds(opts, writer, state, 'main', Math.max(start, state.round + 1), end, end - start + 1, condition, budget);
  state = await runElection(opts, writer, state, budget);
  opts.onStreamEnd?.(condition.stream, state);
}

/**
 * A stream's state at its head: folded from the store onto `initial`, or, in a worker's job slot
 * that ran the stream's last slice, the state that slice left (./stream-memory.ts) when the
 * stream's head is still where it left it.
 */
async function foldOrRecall(opts: EngineOptions, initial: World, id: string): Promise<{ state: World; position: number; finished: boolean }> {
  if (opts.memory) {
    const head = await opts.store.head(id);
    const recalled = opts.memory.recall(id, head);
    if (recalled) return { ...recalled, position: head.position };
  }
  return foldStream(opts.store, initial, id, worldFold);
}

interface StreamWriter {
  store: EventStore;
  runId: number;
  stream: { id: string; name: string };
  position: number;
  /** The hash of the event at `position`, once this writer has appended (for ./stream-memory.ts). */
  hash?: string;
}

/** Appends a batch with its projection rows in one transaction; returns the new stream position. */
async function appendBatch(w: StreamWriter, events: SimEvent[]): Promise<number> {
  const recorded = await w.store.append({ runId: w.runId, stream: w.stream, expectedPosition: w.position, events, projections: projectEvents(w.runId, w.stream.id, events) });
  w.hash = recorded.length > 0 ? recorded[recorded.length - 1].hash : w.hash;
  return w.position + events.length;
}

async function runRounds(
  opts: EngineOptions,
  writer: StreamWriter,
  initial: World,
  stage: 'warmup' | 'main',
  from: number,
  to: number,
  roundsTotal: number,
  condition: ConditionRun | null,
  budget: FallbackBudget | null,
): Promise<World> {
  const { config } = opts;
  const seed = config.seed;
  let state = initial;
  for (let round = from; round <= to; round++) {
    if (opts.sliceOver?.()) throw new InterruptedError(round, writer.stream.name);
    await checkpoint(opts.signal, round, writer.stream.name);
    const startedAt = performance.now();
    const batch: SimEvent[] = [];

    if (condition && round === periodStart(config, periodOf(config, round))) {
      const period = periodOf(config, round);
      const settings = config.conditions[condition.condition];
      const probability = settings.probabilities[period - 1];
      const treatedIds = assignTreatment(state.agentIds.map((a) => state.personas[a]), probability, condition.treatmentSeed);
      const assigned = makeEvent('TreatmentAssigned', { period, probability, message: settings.message, treatedIds }, round);
      batch.push(assigned);
      state = evolveAll(state, [assigned]);
    }

    const active = state.agentIds.filter((a) => state.agents[a].nextActivity === round);
    const ctx: TurnContext = {
      config,
      seed,
      stage,
      round,
      feed: feedContext(state),
      likelyVoters: countLikelyVoters(state, config.messages.likely_voter_threshold),
    };
    const requests = active.map((a) => buildTurnRequest(ctx, a));
    await opts.beforeDecide?.(requests, round, writer.stream.name);
    const answers = await decideAll(opts.provider, requests, opts.signal, round, writer.stream.name);

    const ledger = newLedger(state);
    let fellBack = 0;
    requests.forEach((request, i) => {
      const agentId = request.key.agentId;
      batch.push(makeEvent('FeedServed', { postIds: request.feed.map((f) => f.postId) }, round, agentId));
      if (request.treatment) {
        batch.push(makeEvent('TreatmentMessageShown', { message: request.treatment.kind, likelyVoters: request.treatment.likelyVoters, friendIds: request.treatment.friendIds }, round, agentId));
      }
      const applied = applyTurn(ctx, request, answers[i], ledger);
      fellBack += applied.filter((e) => e.type === 'DecisionFellBack').length;
      batch.push(...applied);
    });
    batch.push(makeEvent('RoundCompleted', { activeAgents: active.length, fellBack }, round));
    // The warmup's last round closes its stream; a condition's stream closes with the election.
    budget?.add(requests.length, batch, stage === 'warmup' && round === to);

    writer.position = await appendBatch(writer, batch);
    state = evolveAll(state, batch);
    opts.memory?.keep(writer.stream.id, { position: writer.position, hash: writer.hash! }, state, false);
    opts.onProgress?.({
      stream: writer.stream.name,
      stage,
      round,
      roundsDone: round - (stage === 'warmup' ? config.warmup.start_round : mainStartRound(config)) + 1,
      roundsTotal,
      activeAgents: active.length,
      fellBack,
      roundMs: performance.now() - startedAt,
    });
  }
  return state;
}

async function runElection(opts: EngineOptions, writer: StreamWriter, state: World, budget: FallbackBudget | null): Promise<World> {
  const { config } = opts;
  const round = electionRound(config);
  if (opts.sliceOver?.()) throw new InterruptedError(round, writer.stream.name);
  await checkpoint(opts.signal, round, writer.stream.name);
  const startedAt = performance.now();
  const requests = state.agentIds.map((a) => buildVoteRequest(state, a, config, config.seed, round));
  const asked = requests.filter((r): r is NonNullable<typeof r> => r !== null);
  await opts.beforeDecide?.(asked, round, writer.stream.name);
  const answers = await decideAll(opts.provider, asked, opts.signal, round, writer.stream.name);
  const byAgent = new Map(asked.map((r, i) => [r.key.agentId, answers[i]]));
  const batch: SimEvent[] = [];
  state.agentIds.forEach((agentId, i) => {
    batch.push(...applyVote(requests[i], agentId, byAgent.get(agentId) ?? null, round, config.messages.likely_voter_threshold));
  });
  batch.push(makeEvent('StageCompleted', { stage: 'election' }, round));
  budget?.add(asked.length, batch, true);
  writer.position = await appendBatch(writer, batch);
  opts.onProgress?.({
    stream: writer.stream.name,
    stage: 'election',
    round,
    roundsDone: 1,
    roundsTotal: 1,
    activeAgents: asked.length,
    fellBack: batch.filter((e) => e.type === 'DecisionFellBack').length,
    roundMs: performance.now() - startedAt,
  });
  return evolveAll(state, batch);
}

