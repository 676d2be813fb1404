import type BetterSqlite3 from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { sql, type Selectable } from 'kysely';
import { DatabaseError, IntegrityError, RunNotFoundError, StreamConflictError } from '../errors.js';
import { canonicalJson, sha256 } from './canonical.js';
import { databaseFile, describeSqliteError, openDatabase, type OpenDatabase } from './database.js';
import { currentLease, leaseIsLive } from './leases.js';
import type { EventsTable } from './schema.js';
import type { WriteLock } from './write-lock.js';
import { EVENT_SCHEMA_VERSION, validateEvent, type EventType, type RecordedEvent, type SimEvent } from '../domain/events.js';

export type RunStatus = 'running' | 'interrupted' | 'finished' | 'failed';

export interface RunRow {
  id: number;
  createdAt: string;
  seed: number;
  config: unknown;
  codeVersion: string;
  status: RunStatus;
}

export interface RunSummary {
  id: number;
  seed: number;
  status: RunStatus;
  createdAt: string;
  events: number;
  streams: number;
  lastRound: number | null;
  fellBack: number;
  fingerprint: string;
}

/** Where and why a stream's hash chain breaks. `position` is the global event position (-1: the head). */
export interface ChainBreak {
  streamPosition: number;
  position: number;
  reason: string;
}

export interface StreamHead {
  position: number;
  hash: string;
}

/** Called inside the append transaction, so projections commit or roll back with the events. */
export type InTransaction = (recorded: RecordedEvent[]) => void;

export const EMPTY_STREAM: StreamHead = { position: 0, hash: '' };

const INSERT_CHUNK = 64;
const EVENT_COLUMNS = 8;

function insertEventsSql(rows: number): string {
  const values = Array.from({ length: rows }, () => `(${Array(EVENT_COLUMNS).fill('?').join(', ')})`).join(', ');
  return `insert into events (stream_id, stream_position, round, type, agent_id, payload, schema_version, hash) values ${values}`;
}

export function streamId(runId: number, name: string): string {
  return `run/${runId}/${name}`;
}

/**
 * How events refer to a stream: by name inside the same run (so the run id, which differs between
 * databases, never enters a hash), by full id for another run's stream.
 */
export function streamRef(runId: number, id: string): string {
  const own = streamId(runId, '');
  return id.startsWith(own) ? id.slice(own.length) : id;
}

export function resolveStreamRef(runId: number, ref: string): string {
  return ref.startsWith('run/') ? ref : streamId(runId, ref);
}

/**
 * The text hashed for one event. Built by concatenation in canonical key order around the stored
 * payload, so verification recomputes it from the stored bytes alone. The stream id is left out on
 * purpose: the same experiment recorded in two databases (or under two run ids) has the same hashes.
 */
export function eventHashInput(
  prevHash: string,
  e: { streamPosition: number; type: string; round: number; agentId: number | null; schemaVersion: number },
  payload: string,
): string {
  return `${prevHash}{"agentId":${e.agentId === null ? 'null' : e.agentId},"data":${payload},"round":${e.round},"streamPosition":${e.streamPosition},"type":${JSON.stringify(e.type)},"v":${e.schemaVersion}}`;
}

/** `eventHashInput` without the previous hash, built by SQLite from a stored row. */
const HASH_INPUT_SQL = `'{"agentId":' || coalesce(agent_id, 'null') || ',"data":' || payload || ',"round":' || round || ',"streamPosition":' || stream_position || ',"type":' || json_quote(type) || ',"v":' || schema_version || '}'`;

/**
 * The event store of one output directory: runs, streams of events with a hash chain each, and the
 * LLM cache. Appends are synchronous better-sqlite3 transactions over cached prepared statements;
 * everything else goes through kysely on the same handle.
 */
export class EventStore {
  private readonly statements: ReturnType<EventStore['prepare']>;
  /** Set when several threads of this process append to the database (conditions in workers). */
  writeLock: WriteLock | null = null;

  private constructor(readonly handle: OpenDatabase) {
    this.statements = this.prepare();
  }

  static async open(outDir: string): Promise<EventStore> {
    return new EventStore(await openDatabase(databaseFile(outDir)));
  }

  /** Opens the store of a directory that already has one, or returns null (creating nothing). */
  static async openExisting(outDir: string): Promise<EventStore | null> {
    const file = databaseFile(outDir);
    if (!existsSync(file)) return null;
    return new EventStore(await openDatabase(file));
  }

  get file(): string {
    return this.handle.file;
  }
  get sqlite(): BetterSqlite3.Database {
    return this.handle.sqlite;
  }
  get db() {
    return this.handle.db;
  }

  async close(): Promise<void> {
    await this.handle.db.destroy();
  }

  private prepare() {
    const s = this.handle.sqlite;
    return {
      head: s.prepare<[string], { last_position: number; last_hash: string }>(
        'select last_position, last_hash from streams where stream_id = ?',
      ),
      insertStream: s.prepare('insert into streams (stream_id, run_id, name, last_position, last_hash) values (?, ?, ?, ?, ?)'),
      updateHead: s.prepare('update streams set last_position = ?, last_hash = ? where stream_id = ?'),
      insertChunk: s.prepare(insertEventsSql(INSERT_CHUNK)),
      headFacts: s.prepare<[string, string], { events: number; last: number | null; hash: string | null }>(
        'select count(*) as events, max(stream_position) as last, (select hash from events where stream_id = ? order by stream_position desc limit 1) as hash from events where stream_id = ?',
      ),
      chainRows: s.prepare<[string]>(`select position, stream_position, ${HASH_INPUT_SQL}, hash from events where stream_id = ? order by stream_position`).raw(true),
    };
  }

  private readonly smallInserts = new Map<number, BetterSqlite3.Statement>();

  /** A cached multi-row insert for `rows` events (statement overhead, not SQLite, dominated single-row inserts). */
  private insertStatement(rows: number): BetterSqlite3.Statement {
    let statement = this.smallInserts.get(rows);
    if (!statement) this.smallInserts.set(rows, (statement = this.sqlite.prepare(insertEventsSql(rows))));
    return statement;
  }

  // ---- runs ---------------------------------------------------------------------------------

  async createRun(input: { seed: number; config: unknown; codeVersion: string; createdAt: string }): Promise<number> {
    const result = await this.db
      .insertInto('runs')
      .values({
        created_at: input.createdAt,
        seed: input.seed,
        config: canonicalJson(input.config),
        code_version: input.codeVersion,
        status: 'running',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(result.id);
  }

  async setRunStatus(runId: number, status: RunStatus): Promise<void> {
    await this.db.updateTable('runs').set({ status }).where('id', '=', runId).execute();
  }

  async getRun(runId: number): Promise<RunRow> {
    const row = await this.db.selectFrom('runs').selectAll().where('id', '=', runId).executeTakeFirst();
    if (!row) throw new RunNotFoundError(`${this.file}: no run with id ${runId} (see \`sim runs\`)`);
    return toRunRow(row);
  }

  async listRunRows(): Promise<RunRow[]> {
    const rows = await this.db.selectFrom('runs').selectAll().orderBy('id').execute();
    return rows.map(toRunRow);
  }

  async latestRunId(): Promise<number | null> {
    const row = await this.db.selectFrom('runs').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
    return row ? Number(row.id) : null;
  }

  async listRuns(): Promise<RunSummary[]> {
    const runs = await this.listRunRows();
    const out: RunSummary[] = [];
    for (const run of runs) {
      const stats = await this.db
        .selectFrom('events')
        .innerJoin('streams', 'streams.stream_id', 'events.stream_id')
        .where('streams.run_id', '=', run.id)
        .select([
          sql<number>`count(*)`.as('events'),
          sql<number | null>`max(case when events.type = 'RoundCompleted' then events.round end)`.as('last_round'),
          sql<number>`sum(case when events.type = 'DecisionFellBack' then 1 else 0 end)`.as('fell_back'),
        ])
        .executeTakeFirstOrThrow();
      const streams = await this.runStreams(run.id);
      // A run left "running" with no live process behind it was killed: it is interrupted.
      const lease = currentLease(this, run.id);
      const status: RunStatus = run.status === 'running' && !(lease && leaseIsLive(lease)) ? 'interrupted' : run.status;
      out.push({
        id: run.id,
        seed: run.seed,
        status,
        createdAt: run.createdAt,
        events: Number(stats.events),
        streams: streams.length,
        lastRound: stats.last_round === null ? null : Number(stats.last_round),
        fellBack: Number(stats.fell_back ?? 0),
        fingerprint: fingerprintOf(streams),
      });
    }
    return out;
  }

  // ---- streams ------------------------------------------------------------------------------

  /** The streams of a run with their heads, ordered by name. */
  async runStreams(runId: number): Promise<Array<{ streamId: string; name: string; position: number; hash: string }>> {
    const rows = await this.db
      .selectFrom('streams')
      .select(['stream_id', 'name', 'last_position', 'last_hash'])
      .where('run_id', '=', runId)
      .orderBy('name')
      .execute();
    return rows.map((r) => ({ streamId: r.stream_id, name: r.name, position: Number(r.last_position), hash: r.last_hash }));
  }

  head(stream: string): StreamHead {
    const row = this.statements.head.get(stream);
    return row ? { position: Number(row.last_position), hash: row.last_hash } : EMPTY_STREAM;
  }

  /**
   * Appends events to a stream in one transaction. `expectedPosition` is the stream position the
   * caller last saw (0 for a new stream); if another writer got there first, nothing is written and
   * a StreamConflictError is thrown. `inTransaction` runs inside the same transaction.
   *
   * Payloads and hashes are computed before the transaction, against the head read then, so the
   * write lock is held only for the inserts; the transaction checks that the head has not moved.
   */
  append(
    runId: number,
    stream: { id: string; name: string },
    expectedPosition: number,
    events: readonly SimEvent[],
    inTransaction?: InTransaction,
  ): RecordedEvent[] {
    const st = this.statements;
    let seen: StreamHead;
    try {
      seen = this.head(stream.id);
    } catch (error) {
      throw describeSqliteError(this.file, error, `appending to ${stream.id}`);
    }
    if (seen.position !== expectedPosition) throw new StreamConflictError(stream.id, expectedPosition, seen.position);
    const recorded = new Array<RecordedEvent>(events.length);
    // Every row's eight column values, one after another, as the multi-row inserts take them.
    const params = new Array<unknown>(events.length * EVENT_COLUMNS);
    let prevHash = seen.hash;
    let position = seen.position;
    for (let i = 0; i < events.length; i++) {
      const event = events[i];
      position += 1;
      const payload = canonicalJson(event.data);
      const agentId = event.meta.agentId ?? null;
      const meta = { streamPosition: position, type: event.type, round: event.meta.round, agentId, schemaVersion: EVENT_SCHEMA_VERSION };
      const hash = sha256(eventHashInput(prevHash, meta, payload));
      const at = i * EVENT_COLUMNS;
      params[at] = stream.id;
      params[at + 1] = position;
      params[at + 2] = event.meta.round;
      params[at + 3] = event.type;
      params[at + 4] = agentId;
      params[at + 5] = payload;
      params[at + 6] = EVENT_SCHEMA_VERSION;
      params[at + 7] = hash;
      recorded[i] = {
        type: event.type,
        data: event.data,
        meta: { round: event.meta.round, agentId },
        position: 0,
        streamId: stream.id,
        streamPosition: position,
        schemaVersion: EVENT_SCHEMA_VERSION,
        hash,
      } as RecordedEvent;
      prevHash = hash;
    }

    const tx = this.sqlite.transaction((): RecordedEvent[] => {
      const row = st.head.get(stream.id);
      const head = row ? { position: Number(row.last_position), hash: row.last_hash } : EMPTY_STREAM;
      if (head.position !== seen.position || head.hash !== seen.hash) throw new StreamConflictError(stream.id, expectedPosition, head.position);
      if (!row) st.insertStream.run(stream.id, runId, stream.name, 0, '');
      for (let start = 0; start < events.length; start += INSERT_CHUNK) {
        const n = Math.min(INSERT_CHUNK, events.length - start);
        const statement = n === INSERT_CHUNK ? st.insertChunk : this.insertStatement(n);
        const last = Number(statement.run(...params.slice(start * EVENT_COLUMNS, (start + n) * EVENT_COLUMNS)).lastInsertRowid);
        for (let j = 0; j < n; j++) recorded[start + j].position = last - n + 1 + j;
      }
      st.updateHead.run(position, prevHash, stream.id);
      inTransaction?.(recorded);
      return recorded;
    });
    try {
      return this.writeLock ? this.writeLock.run(() => tx.immediate()) : tx.immediate();
    } catch (error) {
      if (error instanceof StreamConflictError) throw error;
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new StreamConflictError(stream.id, expectedPosition, this.head(stream.id).position);
      }
      if (error instanceof Error && !(error as { code?: string }).code) throw error;
      throw describeSqliteError(this.file, error, `appending to ${stream.id}`);
    }
  }

  /** The type of a stream's last event, or null for an empty stream. */
  lastEventType(stream: string): string | null {
    const row = this.sqlite
      .prepare<[string], { type: string }>('select type from events where stream_id = ? order by stream_position desc limit 1')
      .get(stream);
    return row?.type ?? null;
  }

  /** A stream's stored rows in order, unparsed (for comparing and exporting logs quickly). */
  *rawEvents(stream: string): Generator<StoredRow> {
    yield* this.sqlite
      .prepare<[string], StoredRow>(
        'select position, stream_id, stream_position, round, type, agent_id, payload, schema_version, hash from events where stream_id = ? order by stream_position',
      )
      .iterate(stream);
  }

  /** Reads a stream's events in order, validating each payload. */
  *readStream(stream: string, afterPosition = 0): Generator<RecordedEvent> {
    const rows = this.sqlite
      .prepare<[string, number], EventRow>(
        'select position, stream_id, stream_position, round, type, agent_id, payload, schema_version, hash from events where stream_id = ? and stream_position > ? order by stream_position',
      )
      .iterate(stream, afterPosition);
    for (const row of rows) yield toRecordedEvent(row);
  }

  /**
   * Recomputes a stream's hash chain from the stored payloads. Returns null when intact, or the
   * first event (stream position) whose hash does not match what it should be.
   */
  verifyStream(stream: string): ChainBreak | null {
    return this.checkChain(stream).broken;
  }

  /**
   * One pass over a stream's stored rows. SQLite builds each event's hashed text (the same bytes
   * as `eventHashInput`), so each row crosses into JavaScript as two strings instead of eight
   * values: this runs before every report and export, over millions of events. Each link is
   * checked against the previous row's stored hash; all links holding means the chain recomputed
   * from the start equals the stored one.
   */
  private checkChain(stream: string): { broken: ChainBreak | null; events: number } {
    let prevHash = '';
    let expectedPosition = 0;
    const rows = this.statements.chainRows.iterate(stream) as IterableIterator<[number, number, string, string]>;
    for (const [position, streamPosition, hashed, stored] of rows) {
      expectedPosition += 1;
      if (streamPosition !== expectedPosition) {
        return { broken: { streamPosition: expectedPosition, position, reason: `stream position ${expectedPosition} is missing` }, events: expectedPosition - 1 };
      }
      if (sha256(prevHash + hashed) !== stored) {
        return { broken: { streamPosition, position, reason: 'hash does not match its contents and predecessor' }, events: expectedPosition - 1 };
      }
      prevHash = stored;
    }
    const head = this.head(stream);
    if (head.position !== expectedPosition || head.hash !== prevHash) {
      return { broken: { streamPosition: expectedPosition, position: -1, reason: 'stream head does not match its last event' }, events: expectedPosition };
    }
    return { broken: null, events: expectedPosition };
  }

  /**
   * The cheap check `sim runs` makes on every run: does the stored head (last position and hash)
   * still describe the stream's events (their count, last position and last stored hash)? Catches
   * lost, added or truncated events and a rewritten last event without hashing anything; a payload
   * altered in the middle needs `verifyStreams`. Returns the problem, or null.
   */
  headMismatch(stream: string): string | null {
    const row = this.statements.headFacts.get(stream, stream);
    const head = this.head(stream);
    const count = Number(row?.events ?? 0);
    const last = row?.last === null || row?.last === undefined ? 0 : Number(row.last);
    if (count !== head.position || last !== head.position) return `stream ${stream}: head says ${head.position} events, the table holds ${count} (last position ${last})`;
    if ((row?.hash ?? '') !== head.hash) return `stream ${stream}: head hash does not match its last event (position ${last})`;
    return null;
  }

  /**
   * Verifies the hash chains of the given streams (in order) and says how many events they hold;
   * throws IntegrityError naming the first bad event. Reports and exports call it on every stream
   * they read, so what is published comes from untouched events.
   */
  verifyStreams(ids: readonly string[]): { streams: number; events: number } {
    let events = 0;
    for (const id of ids) {
      const { broken, events: n } = this.checkChain(id);
      if (broken) throw new IntegrityError(`${this.file}: stream ${id} is broken at stream position ${broken.streamPosition} (event ${broken.position}): ${broken.reason}`);
      events += n;
    }
    return { streams: ids.length, events };
  }

  /** Throws IntegrityError naming the first bad event of any stream of the run. */
  async verifyRun(runId: number): Promise<void> {
    this.verifyStreams((await this.runStreams(runId)).map((s) => s.streamId));
  }

  async fingerprint(runId: number): Promise<string> {
    return fingerprintOf(await this.runStreams(runId));
  }
}

/** A run's fingerprint: the hash of its streams' names and last hashes. Equal runs, equal fingerprints. */
export function fingerprintOf(streams: ReadonlyArray<{ name: string; hash: string }>): string {
  const heads = [...streams].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((s) => [s.name, s.hash]);
  return sha256(canonicalJson(heads));
}

export type StoredRow = EventRow;

/** A stored event row as the driver returns it. */
type EventRow = Selectable<EventsTable>;

function toRecordedEvent(row: EventRow): RecordedEvent {
  const where = `event ${row.position} (${row.stream_id}#${row.stream_position})`;
  let raw: unknown;
  try {
    raw = JSON.parse(row.payload);
  } catch {
    throw new DatabaseError(`${where}: payload is not valid JSON`);
  }
  let data: SimEvent['data'];
  try {
    data = validateEvent(row.type, raw, where);
  } catch (error) {
    throw new DatabaseError((error as Error).message);
  }
  return {
    type: row.type as EventType,
    data,
    meta: { round: Number(row.round), agentId: row.agent_id === null ? null : Number(row.agent_id) },
    position: Number(row.position),
    streamId: row.stream_id,
    streamPosition: Number(row.stream_position),
    schemaVersion: Number(row.schema_version),
    hash: row.hash,
  } as RecordedEvent;
}

function toRunRow(row: { id: number; created_at: string; seed: number; config: string; code_version: string; status: string }): RunRow {
  return {
    id: Number(row.id),
    createdAt: row.created_at,
    seed: Number(row.seed),
    config: JSON.parse(row.config),
    codeVersion: row.code_version,
    status: row.status as RunStatus,
  };
}
