import { EVENT_SCHEMA_VERSION } from '../domain/event-version.js';
import type { SimEvent } from '../domain/events.js';
import { directoryStore, openStore, parseStoreLocation, type OpenOptions, type StoreLocation } from '../events/open-store.js';
import type { EventCodec, Store } from '../events/port.js';

let validate: typeof import('../domain/events.js').validateEvent | null = null;

/**
 * The domain's event codec, its zod schemas loaded when the store first reads events: a command
 * that only lists runs (`sim runs`) never parses zod (test/build.test.ts checks it).
 */
const eventCodec: EventCodec<SimEvent> = {
  schemaVersion: EVENT_SCHEMA_VERSION,
  async load() {
    validate ??= (await import('../domain/events.js')).validateEvent;
  },
  decode(type, data, where) {
    if (!validate) throw new Error(`${where}: the event schemas were not loaded (EventCodec.load was not awaited)`);
    return validate(type, data, where);
  },
};

/** The store of sim's events: the generic storage port bound to the domain's event codec. */
export type EventStore = Store<SimEvent>;

export const EventStore = {
  /** Opens (creating if needed) the store at a location. */
  async at(location: StoreLocation | string, options: Omit<OpenOptions, 'mustExist'> = {}): Promise<EventStore> {
    const where = typeof location === 'string' ? parseStoreLocation(location) : location;
    return (await openStore(where, eventCodec, options))!;
  },
  /** Opens a store that already exists, or returns null (creating nothing); `readOnly`: to read only, writing nothing. */
  async existing(location: StoreLocation | string, options: { readOnly?: boolean } = {}): Promise<EventStore | null> {
    const where = typeof location === 'string' ? parseStoreLocation(location) : location;
    return openStore(where, eventCodec, { mustExist: true, readOnly: options.readOnly });
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
