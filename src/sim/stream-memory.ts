import type { World } from '../domain/world.js';
import type { StreamHead } from '../events/port.js';

export interface Recalled {
  state: World;
  finished: boolean;
}

/**
 * What a worker's job slot remembers of the streams it just ran: each one's state with the head
 * (position and hash) it had when the state was taken. A slice that ends re-enqueues its job, and
 * the slot that ran it often takes it straight back (docs/distributed.md); folding the stream from
 * the store again would then rebuild a state the slot already holds. A state is recalled only
 * while its stream's head is exactly the one it was taken at: any event appended since (another
 * worker continued the stream) and the stream is folded from the store as before. States are
 * never changed once made (src/domain/evolve.ts), so holding one is safe.
 */
export class StreamMemory {
  private readonly kept = new Map<string, Recalled & { head: StreamHead }>();

  /** `finished`: the stream's last event closes it (a warmup's end, which its conditions fork from). */
  keep(streamId: string, head: StreamHead, state: World, finished: boolean): void {
    this.kept.set(streamId, { head, state, finished });
  }

  /** The state kept for a stream at exactly this head, or null. */
  recall(streamId: string, head: StreamHead): Recalled | null {
    const kept = this.kept.get(streamId);
    return kept && kept.head.position === head.position && kept.head.hash === head.hash ? { state: kept.state, finished: kept.finished } : null;
  }

  /** Forgets every stream but these (a slot keeps only what its next job may use, so memory stays bounded). */
  forgetAllBut(streamIds: readonly string[]): void {
    for (const id of [...this.kept.keys()]) if (!streamIds.includes(id)) this.kept.delete(id);
  }
}
