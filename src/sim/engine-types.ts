import type { ExperimentConfig } from '../domain/config.js';
import type { DecisionRequest, Provider, ProviderStats } from '../domain/decision.js';
import type { Persona } from '../domain/persona.js';
import type { World } from '../domain/world.js';
import type { Divergence } from './compare.js';
import type { EventStore } from './store.js';
import type { StreamMemory } from './stream-memory.js';
import type { StoreHandoff } from '../events/port.js';

/** The users of a new run and who follows whom. */
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
   * Worker threads for the conditions (offline provider, or a cache-only one with threadProvider: an
   * LLM run that calls a server is bound by it and shares one limiter). Results are identical for any number.
   */
  workers?: number;
  /**
   * For a provider that is not offline but makes no HTTP request (answers from the LLM cache only):
   * how worker threads make their own, so the conditions can run in threads like offline ones.
   */
  threadProvider?: ThreadProvider;
  /** Expected cost of conditions by stream name (e.g. a replay's recorded event counts), for dealing them to threads. */
  conditionCosts?: ReadonlyMap<string, number>;
  /**
   * An exact replay's recording: each condition a worker thread runs is compared, in that thread, with
   * the stream of the same name in this run, and the result handed to onConditionCompared.
   */
  compareWith?: { store: StoreHandoff; runId: number };
  onConditionCompared?: (stream: string, divergence: Divergence | null) => void;
  /** The provider statistics of a condition run in a worker thread (its own provider), as they change. */
  onConditionStats?: (stream: string, stats: ProviderStats) => void;
  /** Called with each stream's final state (tests compare it with the state folded from events). */
  onStreamEnd?: (stream: string, state: World) => void;
  signal?: AbortSignal;
  /**
   * Asked before each round (and election day): true ends the stream's work here with an
   * InterruptedError, before anything of the round is decided (a distributed job's time slice).
   */
  sliceOver?: () => boolean;
  /**
   * A worker's job slot's memory of the streams it ran (./stream-memory.ts): each round's state is
   * kept there, and a stream whose head has not moved since is continued from it instead of folded.
   */
  memory?: StreamMemory;
  /** Stop when a stream's share of fallen-back decisions passes this (0.02 = 2%); absent: no budget. */
  maxFallbackRate?: number;
  /**
   * Awaited before a batch of requests is sent (the initial posts, a round's turns, election day's
   * votes), when nothing of that round is recorded yet: throwing ends the stream's work there, at a
   * round boundary (the spending cap, src/api/spend.ts). Not in worker threads (they never pay).
   */
  beforeDecide?: (requests: readonly DecisionRequest[], round: number, stream: string) => Promise<void>;
}

/**
 * How a worker thread makes the provider of each condition it runs: the offline model, or answers
 * read from a store's LLM cache only (an exact replay): neither makes an
 * HTTP request, so nothing is shared between threads but the store.
 */
export type ThreadProvider = { kind: 'offline' } | { kind: 'cache-only'; cache: StoreHandoff };

