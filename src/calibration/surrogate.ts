import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { electionRound, parseExperiment, type ExperimentConfig } from '../domain/config.js';
import {
  answerDraws,
  basePropensity,
  electionCloseness,
  individualDraw,
  likelihoodAnswer,
  OFFLINE_PARAMETERS,
  offlineParameters,
  OfflineProvider,
  type AnswerDraws,
  type LikelihoodParameters,
} from '../domain/offline-model.js';
import { roundsBetween } from '../export/tables.js';
import { EventStore } from '../sim/store.js';
import { streamId } from '../events/stream-ids.js';
import { runExperiment, type ProgressEvent } from '../sim/engine.js';
import { loadPopulation } from '../sim/population.js';
import { conditionShape, WARMUP_END, type ConditionShape, type VotingMatrix } from './shape.js';
import { FIT_CONDITIONS, type FitCondition } from './targets.js';

/**
 * The fit's surrogate of the simulation. In the offline model, a stated likelihood depends only on
 * the persona, the agent's own previous answer, the days left, the treatment message shown and draws
 * from a stream of its own; the feed, engagement and schedule never depend on it. So one engine run
 * records, per condition, who answered in which round and what message they saw, and the surrogate
 * replays the likelihood chain over that record with any parameters: the same answers the engine
 * would give, in microseconds. The one approximation: the social message names followed users who
 * answered 3 or more, and the count of names shown is kept as recorded (so the fit records twice:
 * with the starting parameters, then with the first fit's).
 */
export interface Schedule {
  seed: number;
  rounds: number[];
  /** Per condition, statements grouped by agent, in round order. */
  conditions: Record<FitCondition, Statements>;
  /** The shapes the engine run itself produced (with the parameters it was recorded with). */
  observed: Record<FitCondition, ConditionShape>;
}

/** Flat arrays, one entry per statement (fast to replay thousands of times). */
export interface Statements {
  /** Index of the agent's first statement in the arrays; agentStart[n] = length. */
  agentStart: number[];
  persona: Float64Array;
  roundIndex: Int32Array;
  /** 1 for a statement in the warmup (rounds up to WARMUP_END). */
  warmup: Uint8Array;
  closeness: Float64Array;
  /** 0 none, 1 informational, 2 social. */
  message: Uint8Array;
  /** Social message: the persona-free part of the boost (socialBoostPerFriend x names, up to 6). */
  friendBoost: Float64Array;
  noise: Float64Array;
  reconsider: Float64Array;
}

interface Statement {
  agent: number;
  round: number;
  likelihood: number;
  message: 0 | 1 | 2;
  friends: number;
}

export interface RecordOptions {
  nUsers: number;
  seed: number;
  likelihood: LikelihoodParameters;
  usersDir?: string | null;
  onProgress?: (p: ProgressEvent) => void;
}

/** Runs the engine once (warmup and the fitted conditions) and records the schedule. */
export async function recordSchedule(o: RecordOptions): Promise<Schedule> {
  const config = parseExperiment({ n_users: o.nUsers, seed: o.seed, users_dir: o.usersDir ?? null, run_conditions: [...FIT_CONDITIONS], offline_params: o.likelihood });
  const dir = mkdtempSync(join(tmpdir(), 'sim-calibrate-'));
  const store = await EventStore.open(dir);
  try {
    const runId = await store.createRun({ seed: o.seed, config, codeVersion: 'calibrate', createdAt: 'calibrate' });
    const population = loadPopulation(config);
    await runExperiment({ store, provider: new OfflineProvider(offlineParameters(o.likelihood)), config, runId, population, onProgress: o.onProgress });
    const personas = new Map(population.personas.map((p) => [p.id, p]));
    const persona = (agent: number) => basePropensity(personas.get(agent)!) + OFFLINE_PARAMETERS.individualSd * individualDraw(o.seed, agent);
    const warmup = await readStatements(store, streamId(runId, 'warmup'));
    const rounds = roundsBetween(config.warmup.start_round, electionRound(config));
    const conditions = {} as Schedule['conditions'];
    const observed = {} as Schedule['observed'];
    for (const c of FIT_CONDITIONS) {
      const statements = [...warmup, ...(await readStatements(store, streamId(runId, c)))];
      conditions[c] = toArrays(statements, config, o.seed, persona);
      observed[c] = conditionShape(votingMatrix(statements, rounds));
    }
    return { seed: o.seed, rounds, conditions, observed };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function readStatements(store: EventStore, stream: string): Promise<Statement[]> {
  const rows: Array<{ round: number; agent_id: number; type: string; payload: string }> = [];
  for await (const page of store.eventsOfTypes(stream, ['TreatmentMessageShown', 'VotingIntentionStated'])) for (const r of page) rows.push({ ...r, agent_id: r.agent_id! });
  const shown = new Map<string, { message: 0 | 1 | 2; friends: number }>();
  const out: Statement[] = [];
  for (const r of rows) {
    const key = `${r.round}:${r.agent_id}`;
    if (r.type === 'TreatmentMessageShown') {
      const p = JSON.parse(r.payload) as { message: string; friendIds: number[] };
      shown.set(key, { message: p.message === 'social' ? 2 : p.message === 'informational' ? 1 : 0, friends: p.friendIds.length });
    } else {
      out.push({ agent: r.agent_id, round: r.round, likelihood: (JSON.parse(r.payload) as { likelihood: number }).likelihood, message: shown.get(key)?.message ?? 0, friends: shown.get(key)?.friends ?? 0 });
    }
  }
  return out;
}

function votingMatrix(statements: readonly Statement[], rounds: number[]): VotingMatrix {
  const agents = [...new Set(statements.map((s) => s.agent))].sort((a, b) => a - b);
  const row = new Map(agents.map((a, i) => [a, i]));
  const rows = agents.map(() => rounds.map((): number | null => null));
  for (const s of statements) rows[row.get(s.agent)!][s.round - rounds[0]] = s.likelihood;
  return { rounds, rows };
}

function toArrays(statements: Statement[], config: ExperimentConfig, seed: number, persona: (agent: number) => number): Statements {
  statements.sort((a, b) => a.agent - b.agent || a.round - b.round);
  const n = statements.length;
  const s: Statements = {
    agentStart: [],
    persona: new Float64Array(n),
    roundIndex: new Int32Array(n),
    warmup: new Uint8Array(n),
    closeness: new Float64Array(n),
    message: new Uint8Array(n),
    friendBoost: new Float64Array(n),
    noise: new Float64Array(n),
    reconsider: new Float64Array(n),
  };
  const first = config.warmup.start_round;
  const election = electionRound(config);
  const P = OFFLINE_PARAMETERS;
  statements.forEach((st, i) => {
    if (i === 0 || statements[i - 1].agent !== st.agent) s.agentStart.push(i);
    const d: AnswerDraws = answerDraws(seed, st.round, st.agent);
    s.persona[i] = persona(st.agent);
    s.roundIndex[i] = st.round - first;
    s.warmup[i] = st.round <= WARMUP_END ? 1 : 0;
    s.closeness[i] = electionCloseness(election - st.round, P.driftDays);
    s.message[i] = st.message;
    s.friendBoost[i] = st.message === 2 ? P.socialBoostPerFriend * Math.min(st.friends, 6) : 0;
    s.noise[i] = d.noise;
    s.reconsider[i] = d.reconsider;
  });
  s.agentStart.push(n);
  return s;
}

const MESSAGES = ['none', 'informational', 'social'] as const;

/** The shape the engine would produce for one condition of a recorded schedule, with parameters P. */
export function replayShape(s: Statements, rounds: number, P: LikelihoodParameters): ConditionShape {
  const first = [0, 0, 0, 0, 0];
  const final = [0, 0, 0, 0, 0];
  const sumDiff = new Float64Array(rounds + 1);
  const countDiff = new Float64Array(rounds + 1);
  let pairs = 0;
  let changes = 0;
  let warmupPairs = 0;
  let warmupChanges = 0;
  let ups = 0;
  let oneTwo = 0;
  let sumFinal = 0;
  const users = s.agentStart.length - 1;
  const draws = { noise: 0, reconsider: 0 };
  for (let a = 0; a < users; a++) {
    let previous: number | null = null;
    for (let i = s.agentStart[a]; i < s.agentStart[a + 1]; i++) {
      const m = s.message[i];
      const latent = s.persona[i] + P.drift * s.closeness[i] + (m === 1 ? P.informationalBoost : m === 2 ? P.socialBoost + s.friendBoost[i] : 0);
      draws.noise = s.noise[i];
      draws.reconsider = s.reconsider[i];
      const v = likelihoodAnswer(latent, previous, MESSAGES[m], draws, P);
      const j = s.roundIndex[i];
      if (previous === null) {
        first[v] += 1;
        countDiff[j] += 1;
      } else {
        pairs += 1;
        if (v !== previous) changes += 1;
        if (v > previous) ups += 1;
        if (v + previous === 3 && v * previous === 2) oneTwo += 1;
        if (s.warmup[i]) {
          warmupPairs += 1;
          if (v !== previous) warmupChanges += 1;
        }
        sumDiff[j] -= previous;
      }
      sumDiff[j] += v;
      previous = v;
    }
    if (previous !== null) {
      final[previous] += 1;
      sumFinal += previous;
    }
  }
  const byRound: Array<number | null> = [];
  let sum = 0;
  let count = 0;
  for (let j = 0; j < rounds; j++) {
    sum += sumDiff[j];
    count += countDiff[j];
    byRound.push(count > 0 ? sum / count : null);
  }
  return {
    users,
    first: first.map((x) => x / users),
    final: final.map((x) => x / users),
    changeRate: pairs > 0 ? changes / pairs : 0,
    warmupChangeRate: warmupPairs > 0 ? warmupChanges / warmupPairs : 0,
    upShare: changes > 0 ? ups / changes : 0,
    oneTwoShare: changes > 0 ? oneTwo / changes : 0,
    meanFinal: sumFinal / users,
    byRound,
  };
}
