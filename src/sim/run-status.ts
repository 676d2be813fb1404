import { sql } from 'kysely';
import { conditionRuns, parseExperiment, WARMUP_STREAM, type ExperimentConfig } from '../domain/config.js';
import { canonicalJson } from '../events/canonical.js';
import { EventStore, streamId } from '../events/store.js';

/** The stream has reached its StageCompleted. */
export function streamFinished(store: EventStore, id: string): boolean {
  return store.lastEventType(id) === 'StageCompleted';
}

/** The warmup stream a run's conditions start from: its own, or another run's. */
export function warmupStreamOf(runId: number, config: ExperimentConfig): string {
  return config.from_warmup ?? streamId(runId, WARMUP_STREAM);
}

/**
 * The streams a run's results come from: its own, plus the warmup it forked from when that belongs
 * to another run (`--from-warmup`). Reports and exports verify exactly these.
 */
export async function streamsReadBy(store: EventStore, runId: number): Promise<string[]> {
  const config = parseExperiment((await store.getRun(runId)).config, `run ${runId} config`);
  const own = (await store.runStreams(runId)).map((s) => s.streamId);
  const warmup = warmupStreamOf(runId, config);
  return own.includes(warmup) ? own : [warmup, ...own];
}

/** Every stream the run's config calls for has reached its StageCompleted. */
export function runComplete(store: EventStore, runId: number, config: ExperimentConfig): boolean {
  if (!streamFinished(store, warmupStreamOf(runId, config))) return false;
  if (config.warmup_only) return true;
  return conditionRuns(config).every((c) => streamFinished(store, streamId(runId, c.stream)));
}

/** Rounds of the run already recorded, counted as `roundsInRun` counts them (an election day is one). */
export async function roundsRecorded(store: EventStore, runId: number): Promise<number> {
  const row = await store.db
    .selectFrom('events')
    .innerJoin('streams', 'streams.stream_id', 'events.stream_id')
    .where('streams.run_id', '=', runId)
    .where((eb) => eb.or([eb('events.type', '=', 'RoundCompleted'), eb.and([eb('events.type', '=', 'StageCompleted'), eb('events.payload', '=', canonicalJson({ stage: 'election' }))])]))
    .select(sql<number>`count(*)`.as('rounds'))
    .executeTakeFirstOrThrow();
  return Number(row.rounds);
}
