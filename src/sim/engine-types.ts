import type { ExperimentConfig } from '../domain/config.js';
import type { Provider } from '../domain/decision.js';
import type { Persona } from '../domain/persona.js';
import type { World } from '../domain/world.js';
import type { EventStore } from './store.js';

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
   * Worker threads for the conditions (offline provider only: an LLM run is bound by the server and
   * shares one limiter). Results are identical for any number.
   */
  workers?: number;
  /** Called with each stream's final state (tests compare it with the state folded from events). */
  onStreamEnd?: (stream: string, state: World) => void;
  signal?: AbortSignal;
  /**
   * Asked before each round (and election day): true ends the stream's work here with an
   * InterruptedError, before anything of the round is decided (a distributed job's time slice).
   */
  sliceOver?: () => boolean;
  /** Stop when a stream's share of fallen-back decisions passes this (0.02 = 2%); absent: no budget. */
  maxFallbackRate?: number;
}
