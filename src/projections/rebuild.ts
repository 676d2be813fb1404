import type { SimEvent } from '../domain/events.js';
import type { Store } from '../events/port.js';
import { projectEvents } from './writer.js';

/**
 * Drops a run's projection rows and folds them again from its events, in one transaction. The
 * warmup stream goes first because condition streams copy its end state when they fork.
 */
export function rebuildProjections(store: Store<SimEvent>, runId: number, streams: ReadonlyArray<{ streamId: string; name: string }>): Promise<number> {
  const ordered = [...streams].sort((a, b) => (a.name === 'warmup' ? -1 : b.name === 'warmup' ? 1 : a.name < b.name ? -1 : 1));
  return store.rebuildProjections(
    runId,
    ordered.map((s) => s.streamId),
    (stream, events) => projectEvents(runId, stream, events),
  );
}
