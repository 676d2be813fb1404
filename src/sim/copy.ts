import { parseExperiment } from '../domain/config.js';
import { validateEvent, type SimEvent } from '../domain/events.js';
import { IntegrityError, RunNotFoundError, UsageError } from '../errors.js';
import { streamId } from '../events/stream-ids.js';
import { projectEvents } from '../projections/writer.js';
import type { EventStore } from './store.js';

export interface CopyResult {
  runId: number;
  /** copied, or already there with the same fingerprint (nothing done). */
  outcome: 'copied' | 'present';
  streams: number;
  events: number;
  fingerprint: string;
}

/**
 * Copies recorded runs (their rows in the catalogue, streams and events; the projection rows are
 * folded again from the events as they are appended) and the whole LLM cache from one store to
 * another. Every source stream's hash chain is verified first, and every event appended to the
 * target is checked against the source's hash for it (the target recomputes each hash from the
 * events: the copy is verified link by link); the copy's fingerprint must equal the source's.
 *
 * A run keeps its id. When the target already holds a run with that id, the copy is refused unless
 * it is the same run (same fingerprint), which is a no-op. A copy that fails half-way is removed.
 * A run started from another run's warmup brings that run along.
 */
export interface CopyPlan {
  runs: Array<{ runId: number; fingerprint: string; events: number }>;
}

/**
 * The runs to copy (the ones asked for, default all, plus the runs they forked a warmup from), each
 * verified: a broken chain stops the copy before the target is opened.
 */
export async function planCopy(from: EventStore, runIds: number[] | null): Promise<CopyPlan> {
  const wanted = new Set(runIds ?? (await from.listRunRows()).map((r) => r.id));
  for (const id of [...wanted]) {
    const config = parseExperiment((await from.getRun(id)).config, `run ${id} config`);
    if (config.from_warmup) wanted.add(Number(config.from_warmup.split('/')[1]));
  }
  const runs: CopyPlan['runs'] = [];
  for (const runId of [...wanted].sort((a, b) => a - b)) {
    const streams = await from.runStreams(runId);
    const { events } = await from.verifyStreams(streams.map((s) => s.streamId));
    runs.push({ runId, fingerprint: await from.fingerprint(runId), events });
  }
  return { runs };
}

export async function copyRuns(from: EventStore, to: EventStore, plan: CopyPlan, onRun?: (r: CopyResult) => void): Promise<CopyResult[]> {
  const results: CopyResult[] = [];
  for (const { runId: id } of plan.runs) {
    const result = await copyRun(from, to, id);
    results.push(result);
    onRun?.(result);
  }
  // The cache is shared by the runs of a store: all of it goes, an existing key is kept.
  for await (const rows of from.cacheRows()) await to.cachePut(rows);
  return results;
}

async function copyRun(from: EventStore, to: EventStore, runId: number): Promise<CopyResult> {
  const run = await from.getRun(runId);
  const streams = await from.runStreams(runId);
  const { events } = await from.verifyStreams(streams.map((s) => s.streamId));
  const fingerprint = await from.fingerprint(runId);
  const existing = (await to.listRunRows()).find((r) => r.id === runId);
  if (existing) {
    const theirs = await to.fingerprint(runId);
    if (theirs === fingerprint) return { runId, outcome: 'present', streams: streams.length, events, fingerprint };
    throw new RunNotFoundError(
      `${to.location}: already holds a different run ${runId} (fingerprint ${theirs.slice(0, 16)}, the copy's is ${fingerprint.slice(0, 16)}); copy into another store, or remove that run first`,
    );
  }
  await to.createRun({ id: runId, seed: run.seed, config: run.config, codeVersion: run.codeVersion, createdAt: run.createdAt, status: 'running' });
  try {
    // The warmup first: condition streams' projections fork from its rows.
    const ordered = [...streams].sort((a, b) => (a.name === 'warmup' ? -1 : b.name === 'warmup' ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const s of ordered) {
      if (s.streamId !== streamId(runId, s.name)) throw new UsageError(`${from.location}: stream ${s.streamId} of run ${runId} is not named run/${runId}/...; cannot copy it`);
      let position = 0;
      for await (const rows of from.rawEvents(s.streamId)) {
        const batch: SimEvent[] = rows.map((r) => {
          const where = `${from.location}: event ${r.position} (${r.stream_id}#${r.stream_position})`;
          return { type: r.type, data: validateEvent(r.type, JSON.parse(r.payload), where), meta: { round: r.round, agentId: r.agent_id } } as SimEvent;
        });
        const recorded = await to.append({ runId, stream: { id: s.streamId, name: s.name }, expectedPosition: position, events: batch, projections: projectEvents(runId, s.streamId, batch) });
        recorded.forEach((e, i) => {
          if (e.hash !== rows[i].hash || e.streamPosition !== rows[i].stream_position) {
            throw new IntegrityError(`${to.location}: the copy of ${s.streamId} differs from ${from.location} at stream position ${rows[i].stream_position}: nothing of run ${runId} is kept`);
          }
        });
        position += rows.length;
      }
    }
    await to.verifyStreams(streams.map((s) => s.streamId));
    const copied = await to.fingerprint(runId);
    if (copied !== fingerprint) throw new IntegrityError(`${to.location}: the copy of run ${runId} has fingerprint ${copied}, not ${fingerprint}: nothing of it is kept`);
    // What the run has spent goes with it, so a cap (--max-cost) counts the same total on the copy.
    const spent = await from.runSpend(runId);
    if (spent > 0) await to.addRunSpend(runId, spent);
    await to.setRunStatus(runId, run.status === 'running' ? 'interrupted' : run.status);
  } catch (error) {
    await to.deleteRun(runId).catch(() => undefined);
    throw error;
  }
  return { runId, outcome: 'copied', streams: streams.length, events, fingerprint };
}
