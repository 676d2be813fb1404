import { conditionRuns, WARMUP_STREAM, electionRound, mainStartRound, periodOf, periodStart, type ConditionRun, type ExperimentConfig } from '../domain/config.js';
import type { DecisionRequest, InitialPostRequest, Provider, ProviderAnswer } from '../domain/decision.js';
import { applyVote, buildVoteRequest } from '../domain/election.js';
import { applyInitialPost } from '../domain/initial-post.js';
import { feedContext } from '../domain/feed.js';
import type { Persona } from '../domain/persona.js';
import { rng } from '../domain/rng.js';
import { initialNextActivity } from '../domain/schedule.js';
import { assignTreatment, countLikelyVoters } from '../domain/treatment.js';
import { applyTurn, buildTurnRequest, newLedger, type TurnContext } from '../domain/turn.js';
import { emptyWorld, type World } from '../domain/world.js';
import { evolveAll, worldFold } from '../domain/evolve.js';
import { foldStream } from '../events/fold.js';
import { streamFinished } from './run-status.js';
import { EventStore, streamId, streamRef } from '../events/store.js';
import { makeEvent, type SimEvent } from '../domain/events.js';
import { WriteLock } from '../events/write-lock.js';
import { ProjectionWriter } from '../projections/writer.js';
import { InterruptedError, SimError } from '../errors.js';
import { FallbackBudget } from './fallback-budget.js';

/**
 * Runs an experiment on the event store: the warmup once, then every condition forked from the
 * warmup's end state, each in its own stream. Each round is decided from the state at its start
 * (all agents concurrently through the provider), applied in ascending agent id order, and appended
 * with its projections in one transaction. A stream can be continued from its last complete round,
 * which is how interrupted runs resume.
 */
export interface Population {
  personas: Persona[];
  follows: Array<[number, number]>;
  source: string;
}

export interface ProgressEvent {
  stream: string;
  stage: 'setup' | 'warmup' | 'main' | 'election';
  round: number;
  /** Rounds of this stream done so far and in all, for ETA. */
  roundsDone: number;
  roundsTotal: number;
  activeAgents: number;
  fellBack: number;
  roundMs: number;
}

export interface EngineOptions {
  store: EventStore;
  provider: Provider;
  config: ExperimentConfig;
  runId: number;
  /** The population, for a run that records its own warmup. */
  population: Population | null;
  /** Run the conditions from this recorded warmup stream instead of recording one. */
  warmupStream?: string;
  warmupOnly?: boolean;
  onProgress?: (p: ProgressEvent) => void;
  /**
   * Worker threads for the conditions (offline provider only: an LLM run is bound by the server and
   * shares one limiter). Results are identical for any number.
   */
  workers?: number;
  /** Called with each stream's final state (tests compare it with the state folded from events). */
  onStreamEnd?: (stream: string, state: World) => void;
  signal?: AbortSignal;
  /** Stop when a stream's share of fallen-back decisions passes this (0.02 = 2%); absent: no budget. */
  maxFallbackRate?: number;
}


export async function runExperiment(opts: EngineOptions): Promise<void> {
  const projections = new ProjectionWriter(opts.store.sqlite);
  const warmupId = opts.warmupStream ?? streamId(opts.runId, WARMUP_STREAM);
  let warmupEnd: World;
  if (opts.warmupStream) {
    warmupEnd = foldStream(opts.store, emptyWorld(), opts.warmupStream, worldFold).state;
    if (!streamFinished(opts.store, opts.warmupStream)) throw new Error(`warmup stream ${opts.warmupStream} is not finished`);
  } else {
    warmupEnd = await runWarmup(opts, projections, warmupId);
  }
  if (opts.warmupOnly) return;
  // A signal that arrived as the warmup ended must not start the conditions (or their threads).
  await checkpoint(opts.signal, mainStartRound(opts.config));
  const pending = conditionRuns(opts.config).filter((c) => !streamFinished(opts.store, streamId(opts.runId, c.stream)));
  const workers = Math.min(opts.workers ?? 1, pending.length);
  if (workers > 1 && opts.provider.offline) {
    await runInWorkers(opts, pending, warmupId, warmupEnd, workers);
  } else {
    await runConditions(opts, pending, warmupId, warmupEnd);
  }
}

export async function runConditions(opts: EngineOptions, conditions: ConditionRun[], warmupId: string, warmupEnd: World): Promise<void> {
  const projections = new ProjectionWriter(opts.store.sqlite);
  for (const condition of conditions) await runCondition(opts, projections, condition, warmupId, warmupEnd);
}

export interface WorkerJob {
  dbFile: string;
  runId: number;
  config: ExperimentConfig;
  conditions: ConditionRun[];
  warmupId: string;
  warmupEnd: World;
  /** The WriteLock's buffer: the threads take turns appending. */
  writeLock: SharedArrayBuffer;
}

export type WorkerMessage =
  | { type: 'progress'; progress: ProgressEvent }
  | { type: 'done' }
  | { type: 'error'; name: string; message: string; exitCode: number; round: number | null; stream: string | null };

/**
 * A worker's old-generation cap. V8 lets garbage pile up far beyond the live set when the cap is
 * high (each thread is its own heap); a cap sized to the population keeps the run's memory
 * proportional to what it holds (about 6 MB of live state per 1,000 agents, with ample margin here).
 */
export function workerHeapMb(nUsers: number): number {
  return Math.min(16_384, Math.round(384 + nUsers * 0.04));
}

/** Deals the conditions round-robin to worker threads and waits for all of them. */
async function runInWorkers(opts: EngineOptions, pending: ConditionRun[], warmupId: string, warmupEnd: World, n: number): Promise<void> {
  const { Worker } = await import('node:worker_threads');
  const shares = Array.from({ length: n }, (_, i) => pending.filter((_, j) => j % n === i));
  const writeLock = new WriteLock();
  const threads = shares.map((conditions) => {
    const job: WorkerJob = { dbFile: opts.store.file, runId: opts.runId, config: opts.config, conditions, warmupId, warmupEnd, writeLock: writeLock.buffer };
    return new Worker(new URL('./condition-worker.js', import.meta.url), { workerData: job, resourceLimits: { maxOldGenerationSizeMb: workerHeapMb(opts.config.n_users) } });
  });
  const onAbort = () => threads.forEach((t) => t.postMessage({ type: 'abort' }));
  opts.signal?.addEventListener('abort', onAbort);
  // Aborted while the threads were being created: the listener above would never fire.
  if (opts.signal?.aborted) onAbort();
  try {
    const results = await Promise.allSettled(
      threads.map(
        (thread) =>
          new Promise<void>((resolve, reject) => {
            thread.on('message', (m: WorkerMessage) => {
              if (m.type === 'progress') opts.onProgress?.(m.progress);
              else if (m.type === 'done') resolve();
              else reject(m.exitCode === 130 ? new InterruptedError(m.round ?? 0, m.stream ?? undefined) : new SimError(`condition worker: ${m.message}`));
            });
            thread.on('error', reject);
            thread.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`condition worker exited with code ${code}`))));
          }),
      ),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    // A worker listens for "abort" until told otherwise: end them, or the process never exits.
    await Promise.all(threads.map((t) => t.terminate()));
  }
}

// ---- stages ---------------------------------------------------------------------------------------

async function runWarmup(opts: EngineOptions, projections: ProjectionWriter, id: string): Promise<World> {
  const { store, config } = opts;
  const stream = { id, name: WARMUP_STREAM };
  let { state, position, finished } = foldStream(store, emptyWorld(), id, worldFold);
  if (finished) return state;
  if (position === 0) {
    if (!opts.population) throw new Error('a new run needs a population');
    const setup = await setupEvents(opts, opts.population);
    store.append(opts.runId, stream, 0, setup, (rec) => projections.handle(opts.runId, rec));
    state = evolveAll(state, setup);
    position = setup.length;
  }
  const writer: StreamWriter = { store, runId: opts.runId, stream, position, projections };
  const start = config.warmup.start_round;
  const end = config.warmup.end_round;
  const budget = opts.maxFallbackRate === undefined ? null : new FallbackBudget(WARMUP_STREAM, opts.maxFallbackRate);
  state = await runRounds(opts, writer, state, 'warmup', Math.max(start, state.round + 1), end, end - start + 1, null, budget);
  const completed = [makeEvent('StageCompleted', { stage: WARMUP_STREAM }, end)];
  writer.position = appendBatch(writer, completed);
  state = evolveAll(state, completed);
  opts.onStreamEnd?.(WARMUP_STREAM, state);
  return state;
}

async function runCondition(opts: EngineOptions, projections: ProjectionWriter, condition: ConditionRun, warmupId: string, warmupEnd: World): Promise<void> {
  const { store, config } = opts;
  const id = streamId(opts.runId, condition.stream);
  const stream = { id, name: condition.stream };
  let { state, position, finished } = foldStream(store, warmupEnd, id, worldFold);
  if (finished) return;
  const writer: StreamWriter = { store, runId: opts.runId, stream, position, projections };
  if (position === 0) {
    const head = store.head(warmupId);
    const started = [
      makeEvent('StageStarted', { stage: 'main', condition: condition.condition, treatmentSeed: condition.treatmentSeed, forkedFrom: { stream: streamRef(opts.runId, warmupId), position: head.position, hash: head.hash } }, config.warmup.end_round),
    ];
    writer.position = appendBatch(writer, started);
    state = evolveAll(state, started);
  }
  const start = mainStartRound(config);
  const end = electionRound(config);
  const budget = opts.maxFallbackRate === undefined ? null : new FallbackBudget(condition.stream, opts.maxFallbackRate);
  state = await runRounds(opts, writer, state, 'main', Math.max(start, state.round + 1), end, end - start + 1, condition, budget);
  state = await runElection(opts, writer, state, budget);
  opts.onStreamEnd?.(condition.stream, state);
}

interface StreamWriter {
  store: EventStore;
  runId: number;
  stream: { id: string; name: string };
  position: number;
  projections: ProjectionWriter;
}

function appendBatch(w: StreamWriter, events: SimEvent[]): number {
  w.store.append(w.runId, w.stream, w.position, events, (rec) => w.projections.handle(w.runId, rec));
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

    writer.position = appendBatch(writer, batch);
    state = evolveAll(state, batch);
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
  await checkpoint(opts.signal, round, writer.stream.name);
  const startedAt = performance.now();
  const requests = state.agentIds.map((a) => buildVoteRequest(state, a, config, config.seed, round));
  const asked = requests.filter((r): r is NonNullable<typeof r> => r !== null);
  const answers = await decideAll(opts.provider, asked, opts.signal, round, writer.stream.name);
  const byAgent = new Map(asked.map((r, i) => [r.key.agentId, answers[i]]));
  const batch: SimEvent[] = [];
  state.agentIds.forEach((agentId, i) => {
    batch.push(...applyVote(requests[i], agentId, byAgent.get(agentId) ?? null, round, config.messages.likely_voter_threshold));
  });
  batch.push(makeEvent('StageCompleted', { stage: 'election' }, round));
  budget?.add(asked.length, batch, true);
  writer.position = appendBatch(writer, batch);
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

/** The first batch of a run: the population, initial activity rounds and the initial posts. */
async function setupEvents(opts: EngineOptions, population: Population): Promise<SimEvent[]> {
  const { config } = opts;
  const seed = config.seed;
  const setupRound = config.warmup.start_round - 1;
  const events: SimEvent[] = [...populationEvents(population, setupRound), makeEvent('StageStarted', { stage: WARMUP_STREAM, condition: null, treatmentSeed: null, forkedFrom: null }, setupRound)];
  const ids = population.personas.map((p) => p.id).sort((a, b) => a - b);
  for (const id of ids) {
    const next = initialNextActivity(config.warmup.start_round, config.activity, rng(seed, 'warmup', config.warmup.start_round, id, 'initial-activity'));
    events.push(makeEvent('NextActivityScheduled', { nextRound: next, proposed: null }, setupRound, id));
  }

  const byId = new Map(population.personas.map((p) => [p.id, p]));
  const n = config.content.initial_posts;
  const pick = rng(seed, 'setup', setupRound, 0, 'initial-authors');
  // Distinct authors when the population allows, so each post is its own draw.
  const authors = n <= ids.length ? pick.sample(ids, n) : Array.from({ length: n }, () => pick.pick(ids));
  const requests: InitialPostRequest[] = authors.map((authorId) => {
    const persona = byId.get(authorId)!;
    return {
      purpose: 'initial_post',
      key: { seed, agentId: authorId, round: setupRound, purpose: 'initial_post' },
      model: persona.model,
      temperature: config.llm.temperature,
      persona,
      topic: config.topic,
      subtopic: rng(seed, 'setup', setupRound, authorId, 'initial-subtopic').pick(persona.interests),
      maxChars: config.content.max_chars,
    };
  });
  const answers = await decideAll(opts.provider, requests, opts.signal, setupRound, WARMUP_STREAM);
  requests.forEach((request, postId) => events.push(...applyInitialPost(request, answers[postId], postId, config.content.max_chars, setupRound)));
  return events;
}

const AGENTS_PER_PART = 5_000;
const FOLLOWS_PER_PART = 100_000;

/** The population as one PopulationLoaded event, or as parts when it is large. */
export function populationEvents(population: Population, round: number): SimEvent[] {
  const agents = [...population.personas].sort((a, b) => a.id - b.id);
  const follows = [...population.follows].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (agents.length <= AGENTS_PER_PART && follows.length <= FOLLOWS_PER_PART) {
    return [makeEvent('PopulationLoaded', { source: population.source, agents, follows }, round)];
  }
  const chunks: Array<{ agents: typeof agents; follows: typeof follows }> = [];
  for (let i = 0; i < agents.length; i += AGENTS_PER_PART) chunks.push({ agents: agents.slice(i, i + AGENTS_PER_PART), follows: [] });
  for (let i = 0; i < follows.length; i += FOLLOWS_PER_PART) chunks.push({ agents: [], follows: follows.slice(i, i + FOLLOWS_PER_PART) });
  return chunks.map((c, i) => makeEvent('PopulationLoaded', { source: population.source, agents: c.agents, follows: c.follows, part: i + 1, parts: chunks.length }, round));
}

/**
 * Asks the provider for every request at once (it limits concurrency itself); order is kept. A stop
 * asked for meanwhile drops the round before anything of it is applied or appended.
 */
async function decideAll(provider: Provider, requests: DecisionRequest[], signal: AbortSignal | undefined, round: number, stream: string): Promise<ProviderAnswer[]> {
  let answers: ProviderAnswer[];
  try {
    answers = await Promise.all(requests.map((r) => provider.decide(r)));
  } catch (error) {
    // A provider stopped mid-request knows the round, not the stream.
    if (error instanceof InterruptedError && error.stream === undefined) throw new InterruptedError(error.round, stream);
    throw error;
  }
  await checkpoint(signal, round, stream);
  return answers;
}

/**
 * A point where a run may stop: everything before it is appended, nothing after it is. The offline
 * model answers without I/O, so without this yield a round loop would never let the event loop run
 * a signal handler (or, in a worker thread, receive the "abort" message): Ctrl-C would go unheard.
 */
async function checkpoint(signal: AbortSignal | undefined, round: number, stream?: string): Promise<void> {
  if (!signal) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (signal.aborted) throw new InterruptedError(round, stream);
}
