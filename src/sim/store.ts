import { eventCodec, type SimEvent } from '../domain/events.js';
import { directoryStore, openStore, parseStoreLocation, type OpenOptions, type StoreLocation } from '../events/open-store.js';
import type { Store } from '../events/port.js';

/** The store of sim's events: the generic storage port bound to the domain's event codec. */
export type EventStore = Store<SimEvent>;

export const EventStore = {
  /** Opens (creating if needed) the store at a location. */
  async at(location: StoreLocation | string, options: Omit<OpenOptions, 'mustExist'> = {}): Promise<EventStore> {
    const where = typeof location === 'string' ? parseStoreLocation(location) : location;
    return (await openStore(where, eventCodec, options))!;
  },
  /** Opens a store that already exists, or returns null (creating nothing). */
  async existing(location: StoreLocation | string): Promise<EventStore | null> {
    const where = typeof location === 'string' ? parseStoreLocation(location) : location;
    return openStore(where, eventCodec, { mustExist: true });
  },
  /** Opens (creating if needed) the store of an output directory: DIR/sim.db. */
  open(outDir: string): Promise<EventStore> {
    return EventStore.at(directoryStore(outDir));
  },
  /** Opens the store of a directory that already has one, or returns null (creating nothing). */
  openExisting(outDir: string): Promise<EventStore | null> {
    return EventStore.existing(directoryStore(outDir));
  },
};
