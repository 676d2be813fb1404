import { electionRound, mainStartRound, isMixedCondition, type ExperimentConfig } from './config.js';

/**
 * How much memory a run needs, estimated from its settings before anything is written, so a size
 * no heap can hold is refused in a line instead of running until V8 gives up (docs/performance.md,
 * "Memory a run needs"). The costs are measured, rounded; the estimate is of the live heap at its
 * largest (the warmup's end state kept while a condition runs), not of the process's RSS.
 */
export const MEMORY_COSTS = {
  /** The process before any world: code, the bundled population, the store's buffers. */
  baseBytes: 100 * 2 ** 20,
  /**
   * One agent: its persona, state and indexes. With `turnBytes` this matches the worlds measured
   * live after full collections: 100,000 agents and 0.96 M turns 440-650 MB, 1 M agents and
   * 9.55 M turns 2.6-4.5 GB.
   */
  agentBytes: 2_500,
  /** One agent-turn: the posts it saw (packed), liked and replied to, a post it may write, its last turn. */
  turnBytes: 200,
  /**
   * One initial post while the first batch is built (the request, the answer, the events and their
   * encoding at once): 200,000 initial posts on 100 users peaked 576 MB above a run with 20.
   */
  initialPostBytes: 2_900,
  /** One stream of the run (a condition and treatment seed): its record, summary and progress. */
  streamBytes: 1_000,
  /**
   * `sim users generate`: one user (profile, its rows) and one follow edge. 40,000 users at 20 follows
   * each peaked 320 MB above 2,000 users: 8.4 KB a user.
   */
  generatedUserBytes: 4_000,
  followBytes: 220,
} as const;

/** A part of the estimate: the setting that drives it (a config key) and its bytes. */
export interface MemoryPart {
  /** The config key a user would lower (the flag, if any, is the caller's to name). */
  key: 'n_users' | 'content.initial_posts' | 'rounds' | 'n_runs';
  bytes: number;
  /** What was counted, for the message: "100,000,000 initial posts x 2.9 KB". */
  detail: string;
}

export interface MemoryEstimate {
  bytes: number;
  /** The parts, largest first. */
  parts: MemoryPart[];
}

/** Streams a run records after its warmup (conditions, each mixed one once per treatment seed), counted without listing them. */
export function streamCount(c: ExperimentConfig): number {
  if (c.warmup_only) return 0;
  let n = 0;
  for (const name of c.run_conditions) n += c.conditions[name] && isMixedCondition(c.conditions[name]) ? c.n_runs : 1;
  return n;
}

/**
 * Mean rounds between two turns of an agent: it proposes t in min..max (taken uniform here) and
 * acts again after t + uniform{0..1+t} rounds (src/domain/schedule.ts), so 1.5 t + 0.5 on average.
 */
export function meanTurnGap(c: ExperimentConfig): number {
  const t = (c.activity.min_interval + c.activity.max_interval) / 2;
  return 1.5 * t + 0.5;
}

const kb = (bytes: number) => `${(bytes / 1000).toLocaleString('en-US', { maximumFractionDigits: 1 })} KB`;
const count = (n: number) => (n >= 1e15 ? n.toExponential(1) : Math.round(n).toLocaleString('en-US'));

/** The live memory a run of `c` needs at its largest, by the setting driving each part. */
export function estimateRunMemory(c: ExperimentConfig): MemoryEstimate {
  const k = MEMORY_COSTS;
  const warmupRounds = c.from_warmup ? 0 : c.warmup.end_round - c.warmup.start_round + 1;
  const conditionRounds = c.warmup_only ? 0 : electionRound(c) - mainStartRound(c) + 1;
  // The warmup's end state is kept while one condition at a time (per thread) adds its turns to a fork.
  const rounds = warmupRounds + conditionRounds;
  const turns = (c.n_users * rounds) / meanTurnGap(c);
  const initialPosts = c.from_warmup ? 0 : c.content.initial_posts;
  const streams = streamCount(c);
  const parts: MemoryPart[] = [
    { key: 'n_users', bytes: c.n_users * k.agentBytes, detail: `${count(c.n_users)} agents x ${kb(k.agentBytes)}` },
    { key: 'content.initial_posts', bytes: initialPosts * k.initialPostBytes, detail: `${count(initialPosts)} initial posts x ${kb(k.initialPostBytes)}` },
    {
      key: 'rounds',
      bytes: turns * k.turnBytes,
      detail: `about ${count(turns)} agent-turns (${count(c.n_users)} agents over ${count(rounds)} rounds, one turn every ${meanTurnGap(c)} rounds) x ${kb(k.turnBytes)}`,
    },
    { key: 'n_runs', bytes: streams * k.streamBytes, detail: `${count(streams)} condition streams x ${kb(k.streamBytes)}` },
  ];
  parts.sort((a, b) => b.bytes - a.bytes);
  return { bytes: k.baseBytes + parts.reduce((sum, p) => sum + p.bytes, 0), parts };
}

/** The memory `sim users generate` needs for `n` users following `meanOutDegree` others each. */
export function estimatePopulationMemory(n: number, meanOutDegree: number): MemoryEstimate {
  const k = MEMORY_COSTS;
  const perUser = k.generatedUserBytes + meanOutDegree * k.followBytes;
  const part: MemoryPart = { key: 'n_users', bytes: n * perUser, detail: `${count(n)} users x ${kb(perUser)} with ${count(meanOutDegree)} follows each` };
  return { bytes: k.baseBytes + part.bytes, parts: [part] };
}
