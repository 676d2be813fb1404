import { conditionRuns, electionRound, mainStartRound, parseExperiment, periodOf, type ExperimentConfig } from '../domain/config.js';
import type { Persona } from '../domain/persona.js';
import { emptyWorld, type World } from '../domain/world.js';
import { EventStore } from '../sim/store.js';
import { resolveStreamRef, streamId } from '../events/stream-ids.js';
import { foldStream } from '../events/fold.js';
import { worldFold } from '../domain/evolve.js';
import { warmupStreamOf } from '../sim/run-status.js';
import { roundsBetween, type PersonaCounts, type RoundRow } from './tables.js';

/** What the exports and the report read about one condition stream of a run. */
export interface ConditionData {
  stream: string;
  condition: string;
  treatmentSeed: number;
  message: string;
  finished: boolean;
  users: number[];
  rounds: number[];
  rows: RoundRow[];
  treated: Array<{ agentId: number; period: number }>;
  counts: Map<number, PersonaCounts>;
}

export interface RunData {
  runId: number;
  config: ExperimentConfig;
  personas: Map<number, Persona>;
  warmupStream: string;
  conditions: ConditionData[];
  /** Streams the config calls for that have not finished, each with the rounds it lacks. */
  missing: string[];
  /** The warmup's end state, folded once when first needed. */
  warmupWorld?: World;
}

export async function readRunData(store: EventStore, runId: number): Promise<RunData> {
  const config = parseExperiment((await store.getRun(runId)).config, `run ${runId} config`);
  const warmupStream = warmupStreamOf(runId, config);
  const warmupRunId = Number(warmupStream.split('/')[1]);
  const personas = new Map((await store.personas(warmupRunId)).map((r) => [r.agentId, JSON.parse(r.persona) as Persona]));
  const users = [...personas.keys()];
  const rounds = roundsBetween(config.warmup.start_round, electionRound(config));
  const warmupRows = await roundRows(store, warmupStream);
  const recorded = new Set((await store.runStreams(runId)).map((s) => s.name));
  const conditions: ConditionData[] = [];
  const missing: string[] = [];
  if ((await store.lastEventType(warmupStream)) !== 'StageCompleted') missing.push(missingDetail('warmup', await lastRoundCompleted(store, warmupStream), config.warmup.start_round, config.warmup.end_round, false));
  for (const c of config.warmup_only ? [] : conditionRuns(config)) {
    const id = streamId(runId, c.stream);
    const finished = (await store.lastEventType(id)) === 'StageCompleted';
    if (!finished) missing.push(missingDetail(c.stream, await lastRoundCompleted(store, id), mainStartRound(config), electionRound(config), true));
    if (!recorded.has(c.stream)) continue;
    const agents = await store.projectedAgents(id);
    const treated = await store.projectedTreatment(id);
    conditions.push({
      stream: c.stream,
      condition: c.condition,
      treatmentSeed: c.treatmentSeed,
      message: config.conditions[c.condition].message,
      finished,
      users,
      rounds,
      rows: [...warmupRows, ...(await roundRows(store, id))],
      treated,
      counts: new Map(
        agents.map((a) => [
          a.agentId,
          { following: a.following, followers: a.followers, liked: a.liked, replied: a.replied, seen: a.seen, treated: a.treated, voted: a.voted },
        ]),
      ),
    });
  }
  return { runId, config, personas, warmupStream, conditions, missing };
}

/** The last round a stream recorded as complete, or null when it completed none (or does not exist). */
function lastRoundCompleted(store: EventStore, stream: string): Promise<number | null> {
  return store.maxRoundOf(stream, 'RoundCompleted');
}

/**
 * Says what an unfinished stream lacks, e.g. "control (rounds 13..30 and the election missing)".
 * Pure, so the wording is tested without a database.
 */
export function missingDetail(stream: string, lastCompleted: number | null, first: number, last: number, hasElection: boolean): string {
  const from = lastCompleted === null ? first : lastCompleted + 1;
  const parts: string[] = [];
  if (from <= last) parts.push(from === last ? `round ${last}` : `rounds ${from}..${last}`);
  if (hasElection) parts.push('the election');
  if (parts.length === 0) return `${stream} (not closed)`;
  return `${stream} (${lastCompleted === null ? 'not started: ' : ''}${parts.join(' and ')} missing)`;
}

async function roundRows(store: EventStore, stream: string): Promise<RoundRow[]> {
  return store.projectedRounds(stream);
}

/** The follow graph at the end of a condition, folded from its events and its warmup's. */
export async function finalNetwork(store: EventStore, runId: number, data: RunData, condition: ConditionData): Promise<Array<[number, number]>> {
  data.warmupWorld ??= (await foldStream(store, emptyWorld(), resolveStreamRef(runId, data.warmupStream), worldFold)).state;
  const world = (await foldStream(store, data.warmupWorld, streamId(runId, condition.stream), worldFold)).state;
  const edges: Array<[number, number]> = [];
  for (const id of world.agentIds) for (const t of world.agents[id].following) edges.push([id, t]);
  return edges;
}

export function periodFor(config: ExperimentConfig): (round: number) => number | null {
  return (round) => (round <= config.warmup.end_round ? null : periodOf(config, round));
}
