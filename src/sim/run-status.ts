import { conditionRuns, parseExperiment, WARMUP_STREAM, type ExperimentConfig } from '../domain/config.js';
import { canonicalJson } from '../events/canonical.js';
import { EventStore } from './store.js';
import { streamId } from '../events/stream-ids.js';

/** The stream has reached its StageCompleted. */
export async function streamFinished(store: EventStore, id: string): Promise<boolean> {
  return (await store.lastEventType(id)) === 'StageCompleted';
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
export async function runComplete(store: EventStore, runId: number, config: ExperimentConfig): Promise<boolean> {
  if (!(await streamFinished(store, warmupStreamOf(runId, config)))) return false;
  if (config.warmup_only) return true;
  for (const c of conditionRuns(config)) if (!(await streamFinished(store, streamId(runId, c.stream)))) return false;
  return true;
}

/** Rounds of the run already recorded, counted as `roundsInRun` counts them (an election day is one). */
export async function roundsRecorded(store: EventStore, runId: number): Promise<number> {
  return store.countRunEvents(runId, [{ type: 'RoundCompleted' }, { type: 'StageCompleted', payload: canonicalJson({ stage: 'election' }) }]);
}
