/** The schema version recorded with every event (./events.ts holds the payload schemas; this stays apart so the store can be opened without loading zod). */
export const EVENT_SCHEMA_VERSION = 1;
