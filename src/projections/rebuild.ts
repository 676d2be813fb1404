import type { EventStore } from '../events/store.js';
import type { RecordedEvent } from '../domain/events.js';
import { ProjectionWriter } from './writer.js';

const PROJECTION_TABLES = ['proj_agent_rounds', 'proj_treatment', 'proj_agents'] as const;
const BATCH = 20_000;

/**
 * Drops a run's projection rows and folds them again from its events, in one transaction. The
 * warmup stream goes first because condition streams copy its end state when they fork.
 */
export function rebuildProjections(store: EventStore, runId: number, streams: ReadonlyArray<{ streamId: string; name: string }>): number {
  const writer = new ProjectionWriter(store.sqlite);
  const ordered = [...streams].sort((a, b) => (a.name === 'warmup' ? -1 : b.name === 'warmup' ? 1 : a.name < b.name ? -1 : 1));
  let count = 0;
  store.sqlite.transaction(() => {
    for (const s of ordered) {
      for (const table of PROJECTION_TABLES) store.sqlite.prepare(`delete from ${table} where stream_id = ?`).run(s.streamId);
    }
    store.sqlite.prepare('delete from proj_personas where run_id = ?').run(runId);
    for (const s of ordered) {
      let batch: RecordedEvent[] = [];
      for (const event of store.readStream(s.streamId)) {
        batch.push(event);
        count += 1;
        if (batch.length >= BATCH) {
          writer.handle(runId, batch);
          batch = [];
        }
      }
      if (batch.length > 0) writer.handle(runId, batch);
    }
  }).immediate();
  return count;
}
