import { join } from 'node:path';
import { conditionRuns, parseExperiment, WARMUP_STREAM } from '../domain/config.js';
import { exportRunCsv } from '../export/csv-export.js';
import { rebuildProjections } from '../projections/rebuild.js';
import { requireChains } from '../report/integrity.js';
import { streamsReadBy } from '../sim/run-status.js';
import { checkFileTarget, checkFolderTarget, writeFileWholeAsync } from '../write-whole.js';
import { openStoreWithRuns, selectRun } from './runs.js';

export interface ExportCsvOptions {
  /** The run id as typed (default: the latest run). */
  run?: string;
  out: string;
  /** The store (see src/api/store.ts); default SIM_STORE, else <out>/sim.db. */
  store?: string;
  /** The folder to write (default: <out>/export/run-<id>). */
  to?: string;
  /** Replace a non-empty folder. */
  force?: boolean;
}

/** `sim export csv`: the reference's CSV layout of a run, from events whose hash chains verify. */
export async function exportCsv(opts: ExportCsvOptions): Promise<{ runId: number; to: string; folders: string[]; missing: string[] }> {
  const store = await openStoreWithRuns(opts, 'read');
  try {
    const runId = await selectRun(store, opts.run);
    const to = opts.to ?? join(opts.out, 'export', `run-${runId}`);
    checkFolderTarget(to, { flag: '--to', path: to });
    // Exports feed publications: only from events whose hash chains are intact.
    await requireChains(store, await streamsReadBy(store, runId));
    const result = await exportRunCsv(store, runId, to, opts.force ?? false);
    return { runId, to, folders: result.folders, missing: result.missing };
  } finally {
    await store.close();
  }
}

export interface ExportEventsOptions {
  run?: string;
  out: string;
  store?: string;
  /** The file to write; without it the lines go to `sink`. */
  to?: string;
}

/**
 * `sim export events`: the run's event log as JSON Lines, the warmup first, then the conditions in
 * the config's order. Verified whole before the first line goes out (standard output cannot be taken
 * back); written to `to`, or handed to `sink` while the store is open.
 */
export async function exportEvents(opts: ExportEventsOptions, sink?: (lines: AsyncIterable<string>) => Promise<void>): Promise<{ runId: number; events: number; streams: number }> {
  const store = await openStoreWithRuns(opts, 'read');
  try {
    const runId = await selectRun(store, opts.run);
    const order = [WARMUP_STREAM, ...conditionRuns(parseExperiment((await store.getRun(runId)).config)).map((c) => c.stream)];
    const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
    const streams = (await store.runStreams(runId)).sort((a, b) => rank(a.name) - rank(b.name));
    if (opts.to) checkFileTarget(opts.to, { flag: '--to', path: opts.to });
    await requireChains(store, streams.map((s) => s.streamId));
    let events = 0;
    const lines = async function* () {
      for (const s of streams) {
        for await (const page of store.rawEvents(s.streamId)) {
          events += page.length;
          for (const row of page) yield `{"position":${row.position},"stream":${JSON.stringify(s.name)},"sequence":${row.stream_position},"round":${row.round},"type":${JSON.stringify(row.type)},"agent":${row.agent_id ?? 'null'},"data":${row.payload},"hash":"${row.hash}"}\n`;
        }
      }
    };
    if (opts.to) await writeFileWholeAsync(opts.to, lines(), { flag: '--to', path: opts.to });
    else if (sink) await sink(lines());
    return { runId, events, streams: streams.length };
  } finally {
    await store.close();
  }
}

/** `sim project`: verifies a run's hash chains and, with `rebuild`, rebuilds its projections from the events. */
export async function projectRun(opts: { run?: string; out: string; store?: string; rebuild?: boolean }, onVerified?: (v: { runId: number; streams: number }) => void): Promise<{ runId: number; streams: number; rebuilt: { events: number; seconds: number } | null }> {
  const store = await openStoreWithRuns(opts, opts.rebuild ? 'write' : 'read');
  try {
    const runId = await selectRun(store, opts.run);
    const streams = await store.runStreams(runId);
    await requireChains(store, streams.map((s) => s.streamId));
    onVerified?.({ runId, streams: streams.length });
    if (!opts.rebuild) return { runId, streams: streams.length, rebuilt: null };
    const started = Date.now();
    const events = await rebuildProjections(store, runId, streams);
    return { runId, streams: streams.length, rebuilt: { events, seconds: (Date.now() - started) / 1000 } };
  } finally {
    await store.close();
  }
}
