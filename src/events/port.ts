/**
 * The storage port: everything above src/events speaks to a `Store`, never to a database. A store
 * holds runs, hash-chained streams of events, the projection tables folded from them, the LLM cache
 * and the run leases. It knows nothing of what the events mean: the caller gives it an
 * `EventCodec` (validate a payload, the schema version to record), the projection rows to write
 * with each batch, and the fold used to rebuild them. docs/storage.md describes the contract and
 * what each backend guarantees; the SQLite backend is in ./sqlite, chosen by ./open-store.ts.
 */

/** An event as the caller makes it: a type, a JSON payload, the round and the agent it is about. */
export interface NewEvent {
  type: string;
  data: unknown;
  meta: { round: number; agentId?: number | null };
}

/** An event as stored: where it sits (global and stream positions), its schema version and hash. */
export type Recorded<E extends NewEvent> = E & {
  meta: { round: number; agentId: number | null };
  /** Global position: increasing in commit order within a store; may have gaps, differs between stores. */
  position: number;
  streamId: string;
  /** 1, 2, 3... within the stream: identical in every store holding the stream. */
  streamPosition: number;
  schemaVersion: number;
  hash: string;
};

/** How the caller's events are checked when read back, and the schema version written with them. */
export interface EventCodec<E extends NewEvent> {
  schemaVersion: number;
  /** Returns the validated payload or throws an Error naming `where`. */
  decode(type: string, data: unknown, where: string): E['data'];
  /**
   * Makes `decode` ready; a store awaits it before decoding, so a codec may load its schemas only
   * when events are read (a command that lists runs never needs them).
   */
  load?(): Promise<void>;
}

/** A stored event row, unparsed (payload is the canonical JSON text that was hashed). */
export interface StoredRow {
  position: number;
  stream_id: string;
  stream_position: number;
  round: number;
  type: string;
  agent_id: number | null;
  payload: string;
  schema_version: number;
  hash: string;
}

export type RunStatus = 'running' | 'interrupted' | 'finished' | 'failed';

export interface RunRow {
  id: number;
  createdAt: string;
  seed: number;
  config: unknown;
  codeVersion: string;
  status: RunStatus;
}

export interface NewRun {
  seed: number;
  config: unknown;
  codeVersion: string;
  createdAt: string;
  /** The id to record the run under (a copy keeps its id); absent: the next free one. */
  id?: number;
  status?: RunStatus;
}

export interface StreamHead {
  position: number;
  hash: string;
}

export const EMPTY_STREAM: StreamHead = { position: 0, hash: '' };

export interface StreamInfo {
  streamId: string;
  name: string;
  position: number;
  hash: string;
}

/** Where and why a stream's hash chain breaks. `position` is the global event position (-1: the head). */
export interface ChainBreak {
  streamPosition: number;
  position: number;
  reason: string;
}

/**
 * What `sim runs` and `sim status` show of a stream: its head and what a few index lookups give
 * (never a scan of its events, so listing a store of millions of events takes milliseconds).
 */
export interface StreamProgress extends StreamInfo {
  runId: number;
  /** The round of its last RoundCompleted (null: none yet). */
  lastRound: number | null;
  /** The type of its last event (StageCompleted: the stream is finished); null when it has none. */
  lastType: string | null;
  /** Its DecisionFellBack events. */
  fellBack: number;
  /** Its last stored event's stream position and hash (null: none), for the head check. */
  lastEvent: { position: number; hash: string } | null;
}

/**
 * One write to the projection tables, in the order given (a batch's ops are applied in order inside
 * the append's transaction). Every op is an upsert or an increment, so applying the ops of a stream's
 * batches gives the same rows however the stream was split into batches.
 */
export type ProjectionOp =
  | { op: 'persona'; runId: number; agentId: number; age: number; persona: string }
  /** A user's row in a stream, created zeroed if absent. */
  | { op: 'agent'; stream: string; agentId: number; eligible: number }
  /** Copies every user row of `from` into `stream` (treated and voted reset), keeping existing rows. */
  | { op: 'fork'; stream: string; from: string }
  | {
      op: 'addToAgent';
      stream: string;
      agentId: number;
      following: number;
      followers: number;
      liked: number;
      replied: number;
      posted: number;
      seen: number;
      /** Replaces the stored value when not null. */
      lastLikelihood: number | null;
      voted: number | null;
    }
  | { op: 'untreatAll'; stream: string }
  | { op: 'treat'; stream: string; agentId: number; period: number; message: string }
  /** active: 1 sets the flag; likelihood replaces when not null; engagement adds. */
  | { op: 'round'; stream: string; agentId: number; round: number; active: number; likelihood: number | null; engagement: number };

export interface ProjAgentRow {
  agentId: number;
  eligible: number;
  following: number;
  followers: number;
  liked: number;
  replied: number;
  posted: number;
  seen: number;
  lastLikelihood: number | null;
  treated: number;
  voted: number | null;
}

export interface ProjRoundRow {
  agentId: number;
  round: number;
  active: number;
  likelihood: number | null;
  engagement: number;
}

export interface CacheRow {
  key: string;
  model: string;
  response: string;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  createdAt: string;
}

/** Who executes a run: the process that holds its lease (see src/events/leases.ts). */
export interface Lease {
  runId: number;
  host: string;
  pid: number;
  acquiredAt: string;
  /** When the holder last renewed the lease (ISO time); null for a lease written by an older sim. */
  heartbeatAt?: string | null;
}

export interface AppendBatch<E extends NewEvent> {
  runId: number;
  stream: { id: string; name: string };
  /** The stream position the caller last saw (0 for a new stream). */
  expectedPosition: number;
  events: readonly E[];
  /** Projection rows written in the same transaction. */
  projections?: readonly ProjectionOp[];
  /** Cache rows written in the same transaction (inserted; an existing key is kept). */
  cache?: readonly CacheRow[];
}

/** What a worker thread needs to open its own connection to the same store. */
export interface StoreHandoff {
  location: string;
  /** SQLite: the shared write lock of the threads of one process. */
  writeLock?: SharedArrayBuffer;
}

export interface ReadRange {
  /** First stream position to read (default 1). */
  from?: number;
  /** Last stream position to read, inclusive (default: the head). */
  to?: number;
}

export interface Store<E extends NewEvent = NewEvent> {
  readonly backend: 'sqlite' | 'postgres';
  /** How the store is named in messages: the file, or the URL with the password masked. */
  readonly location: string;
  close(): Promise<void>;
  /** Lets a worker thread open the same store (see StoreHandoff); the store itself joins the lock. */
  handoff(): StoreHandoff;

  // ---- the runs catalogue
  createRun(input: NewRun): Promise<number>;
  /** Deletes a run with its streams, events, projection rows and lease (a copy that failed half-way). */
  deleteRun(runId: number): Promise<void>;
  setRunStatus(runId: number, status: RunStatus): Promise<void>;
  /** USD the run has spent on LLM calls, summed over every process that executed it (0: none recorded). */
  runSpend(runId: number): Promise<number>;
  /**
   * Adds `usd` (may be negative) to the run's spend, atomically; with `cap`, only if the total stays
   * at most `cap` (else nothing is added). Returns whether it was added and the total after.
   */
  addRunSpend(runId: number, usd: number, cap?: number | null): Promise<{ added: boolean; total: number }>;
  /** Throws RunNotFoundError naming the store. */
  getRun(runId: number): Promise<RunRow>;
  listRunRows(): Promise<RunRow[]>;
  latestRunId(): Promise<number | null>;
  /** The streams of the runs named (by run id, then name) with their progress, from heads and indexes, in one query. */
  runProgress(runIds: readonly number[]): Promise<StreamProgress[]>;

  // ---- streams
  /** The streams of a run with their heads, ordered by name. */
  runStreams(runId: number): Promise<StreamInfo[]>;
  head(stream: string): Promise<StreamHead>;
  /**
   * Appends a batch at an expected position, with its projection and cache rows, in one
   * transaction. Throws StreamConflictError (nothing written) when the stream is not at
   * `expectedPosition`, including when a concurrent appender got there first.
   */
  append(batch: AppendBatch<E>): Promise<Array<Recorded<E>>>;
  /** The type of a stream's last event, or null for an empty or absent stream. */
  lastEventType(stream: string): Promise<string | null>;
  /** A stream's events in order, validated by the codec, a page at a time. */
  readStream(stream: string, range?: ReadRange): AsyncIterable<Array<Recorded<E>>>;
  /** A stream's stored rows in order, unparsed, a page at a time. */
  rawEvents(stream: string, range?: ReadRange): AsyncIterable<StoredRow[]>;
  /**
   * The first stream position where this stream and a stream of another store of the same backend
   * differ (a row on one side only, or any stored field but the global position), found without
   * reading the rows out; null when equal. SQLite only (both files in one process).
   */
  firstDifference?(stream: string, other: { backend: string; location: string }, otherStream: string): Promise<number | null>;
  /** A stream's rows of the given types (before `beforeRound` when given), in order, a page at a time. */
  eventsOfTypes(stream: string, types: readonly string[], options?: { beforeRound?: number }): AsyncIterable<StoredRow[]>;
  /** The highest round among a stream's events of one type, or null: the round of the last one (rounds never decrease along a stream). */
  maxRoundOf(stream: string, type: string): Promise<number | null>;
  /** How many of a run's events match one of `matches` (type, and payload text when given). */
  countRunEvents(runId: number, matches: ReadonlyArray<{ type: string; payload?: string }>): Promise<number>;

  // ---- integrity
  /** Null when the chain is intact, else the first break. */
  verifyStream(stream: string): Promise<ChainBreak | null>;
  /** Verifies streams in order; throws IntegrityError naming the first bad event. */
  verifyStreams(ids: readonly string[]): Promise<{ streams: number; events: number }>;
  /**
   * The cheap check: is the stream's last stored event the one its head names (position and hash)?
   * The problem, or null. A truncated stream, an event added or a replaced last hash show here; an
   * event changed or taken out further back only in a full verification (verifyStream).
   */
  headMismatch(stream: string): Promise<string | null>;
  fingerprint(runId: number): Promise<string>;

  // ---- projections
  personas(runId: number): Promise<Array<{ agentId: number; persona: string }>>;
  projectedAgents(stream: string): Promise<ProjAgentRow[]>;
  projectedTreatment(stream: string): Promise<Array<{ agentId: number; period: number }>>;
  projectedRounds(stream: string): Promise<ProjRoundRow[]>;
  /**
   * Drops the projection rows of the run's streams and writes them again from the events, in one
   * transaction: `project` turns one stream's events (a page at a time, streams in the order given) into ops.
   */
  rebuildProjections(runId: number, streams: readonly string[], project: (stream: string, events: Array<Recorded<E>>) => ProjectionOp[]): Promise<number>;

  // ---- the LLM cache
  cacheGet(key: string): Promise<CacheRow | null>;
  /** The rows of those keys that are cached, by key (one query for a round's requests). */
  cacheGetMany(keys: readonly string[]): Promise<Map<string, CacheRow>>;
  /**
   * Writes rows in one transaction. An existing key is kept, unless its response starts with
   * `replaceable` (a row that may be overwritten, e.g. a request that never got an answer).
   */
  cachePut(rows: readonly CacheRow[], replaceable?: string): Promise<void>;
  /** Rows in the cache (whose response starts with `prefix`, when given). */
  cacheCount(prefix?: string): Promise<number>;
  /**
   * Reserves keys about to be asked of an LLM, so that processes sharing the store pay for a request
   * once: returns the keys this process now holds; a key another process holds is being asked
   * there (wait for its answer in the cache, or reserve it again). A reservation ends with
   * cacheRelease or when this process's store connection ends (a dead worker holds nothing). Absent
   * where one process owns the store (SQLite): every key is this process's.
   */
  cacheReserve?(keys: readonly string[]): Promise<Set<string>>;
  /** Ends reservations of cacheReserve (after the answers are written, or when no answer came). */
  cacheRelease?(keys: readonly string[]): Promise<void>;
  /** Every cache row, by key, a page at a time (for copying a store). */
  cacheRows(): AsyncIterable<CacheRow[]>;

  // ---- leases (one process at a time executes a run; docs/storage.md, "Run leases")
  /** The run's lease while a live holder has it (this store's own included), else null. */
  currentLease(runId: number): Promise<Lease | null>;
  /**
   * Takes the run's lease for this store's process, `claimant` naming it (host, pid, time), unless
   * another live holder has it: returns that holder's lease then (nothing taken), else null. The
   * store keeps the lease alive (a heartbeat, or a session lock on PostgreSQL) until releaseLease
   * or close; a holder that dies loses it without releasing.
   */
  claimRun(claimant: Lease): Promise<Lease | null>;
  /** Ends this store's lease of the run (nothing when it holds none). */
  releaseLease(runId: number): Promise<void>;
}
