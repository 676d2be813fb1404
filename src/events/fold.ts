import type { NewEvent, ReadRange, Recorded, Store } from './port.js';

/**
 * How a stream's events become state. The store knows nothing of what the events mean: the domain
 * supplies the fold (see `worldFold` in src/domain/evolve.ts).
 */
export interface StreamFold<S, E extends { type: string }> {
  /** The state after a batch of events. */
  evolveAll(state: S, events: E[]): S;
  /** Events after which the batch so far is folded (a round's end), so memory stays bounded. */
  endsBatch(event: E): boolean;
  /** The event that closes a stream. */
  endsStream(event: E): boolean;
}

/** Events are folded in batches no larger than this even inside a very long round. */
const MAX_BATCH = 50_000;

/** Folds a stream (or a range of it: up to any round's last position) onto a starting state, a batch (a round) at a time. */
export async function foldStream<S, E extends NewEvent>(
  store: Store<E>,
  initial: S,
  id: string,
  fold: StreamFold<S, Recorded<E>>,
  range?: ReadRange,
): Promise<{ state: S; position: number; finished: boolean }> {
  let state = initial;
  let position = 0;
  let finished = false;
  let batch: Array<Recorded<E>> = [];
  for await (const page of store.readStream(id, range)) {
    for (const event of page) {
      batch.push(event);
      position = event.streamPosition;
      if (fold.endsBatch(event) || batch.length >= MAX_BATCH) {
        state = fold.evolveAll(state, batch);
        batch = [];
      }
      finished = fold.endsStream(event);
    }
  }
  if (batch.length > 0) state = fold.evolveAll(state, batch);
  return { state, position, finished };
}
