import type BetterSqlite3 from 'better-sqlite3';
import { DatabaseError, RunNotFoundError, StreamConflictError } from '../../errors.js';
import { cacheRowOf } from '../cache-row.js';
import { canonicalJson } from '../canonical.js';
import { ChainCheck, decodeRow, describeHeadMismatch, fingerprintOf, integrityError, sealBatch } from '../hash-chain.js';
import {
  EMPTY_STREAM,
  type AppendBatch,
  type CacheRow,
  type ChainBreak,
  type EventCodec,
  type Lease,
  type NewEvent,
  type NewRun,
  type ProjAgentRow,
  type ProjectionOp,
  type ProjRoundRow,
  type ReadRange,
  type Recorded,
  type RunRow,
  type RunStatus,
  type Store,
  type StoreHandoff,
  type StoredRow,
  type StreamHead,
  type StreamInfo,
  type StreamProgress,
} from '../port.js';
import { HEARTBEAT_MS, leaseIsFresh } from '../leases.js';
import { describeSqliteError, openDatabase, type OpenDatabase } from './database.js';
import { ProjectionStatements } from './projections.js';
import { WriteLock } from './write-lock.js';

const INSERT_CHUNK = 64;
/** The memory map a whole-run scan reads through (SQLite maps at most the file's size). */
const SCAN_MMAP_BYTES = 1 << 30;
const EVENT_COLUMNS = 8;
/** Rows read per page (keyset paging on the stream position, so no statement stays open between pages). */
const PAGE = 4096;

const EVENT_FIELDS = 'position, stream_id, stream_position, round, type, agent_id, payload, schema_version, hash';

function insertEventsSql(rows: number): string {
  const values = Array.from({ length: rows }, () => `(${Array(EVENT_COLUMNS).fill('?').join(', ')})`).join(', ');
  return `insert into events (stream_id, stream_position, round, type, agent_id, payload, schema_version, hash) values ${values}`;
}

/** `eventHashInput` without the previous hash, built by SQLite from a stored row. */
const HASH_INPUT_SQL = `'{"agentId":' || coalesce(agent_id, 'null') || ',"data":' || payload || ',"round":' || round || ',"streamPosition":' || stream_position || ',"type":' || json_quote(type) || ',"v":' || schema_version || '}'`;

/**
 * The SQLite backend: one database file (an output directory's sim.db). Appends are synchronous
 * better-sqlite3 transactions over cached prepared statements under the async surface (the
 * promise resolves after the commit); other queries are plain SQL on the same handle (kysely is
 * loaded only to migrate, so reading commands start without parsing it).
 */
export class SqliteStore<E extends NewEvent> implements Store<E> {
  readonly backend = 'sqlite' as const;
  private readonly s: ReturnType<SqliteStore<E>['prepare']>;
  private readonly projections: ProjectionStatements;
  private readonly smallInserts = new Map<number, BetterSqlite3.Statement>();
  private readonly typeQueries = new Map<string, BetterSqlite3.Statement>();
  /** Set when several threads of this process append to the database (conditions in workers). */
  writeLock: WriteLock | null = null;

  private constructor(
    readonly handle: OpenDatabase,
    private readonly codec: EventCodec<E>,
  ) {
    this.s = this.prepare();
    const get = this.s.cacheGet;
    this.cacheLookups = handle.sqlite.transaction((keys: readonly string[]) => {
      const found = new Map<string, CacheRow>();
      for (const key of keys) {
        const row = get.get(key);
        if (row) found.set(key, cacheRowOf(row));
      }
      return found;
    });
    this.projections = new ProjectionStatements(handle.sqlite);
  }

  static async open<E extends NewEvent>(file: string, codec: EventCodec<E>, options: { writeLock?: SharedArrayBuffer; readOnly?: boolean } = {}): Promise<SqliteStore<E>> {
    const store = new SqliteStore(await openDatabase(file, { readonly: options.readOnly }), codec);
    if (options.writeLock) store.writeLock = new WriteLock(options.writeLock);
    return store;
  }

  get location(): string {
    return this.handle.file;
  }
  /** The raw handle (tests tamper with rows through it). */
  get sqlite(): BetterSqlite3.Database {
    return this.handle.sqlite;
  }
  async close(): Promise<void> {
    for (const lease of this.leases.values()) clearInterval(lease.timer);
    this.leases.clear();
    this.handle.sqlite.close();
    this.handle.cleanup?.();
  }

  handoff(): StoreHandoff {
    this.writeLock ??= new WriteLock();
    return { location: this.location, writeLock: this.writeLock.buffer };
  }

  private prepare() {
    const s = this.handle.sqlite;
    return {
      head: s.prepare<[string], { last_position: number; last_hash: string }>('select last_position, last_hash from streams where stream_id = ?'),
      insertStream: s.prepare('insert into streams (stream_id, run_id, name, last_position, last_hash) values (?, ?, ?, ?, ?)'),
      updateHead: s.prepare('update streams set last_position = ?, last_hash = ? where stream_id = ?'),
      insertChunk: s.prepare(insertEventsSql(INSERT_CHUNK)),
      lastType: s.prepare<[string], { type: string }>('select type from events where stream_id = ? order by stream_position desc limit 1'),
      lastEvent: s.prepare<[string], { stream_position: number; hash: string }>('select stream_position, hash from events where stream_id = ? order by stream_position desc limit 1'),
      chainRows: s
        .prepare<[string, number, number]>(`select position, stream_position, ${HASH_INPUT_SQL}, hash from events where stream_id = ? and stream_position > ? order by stream_position limit ?`)
        .raw(true),
      rows: s.prepare<[string, number, number, number], StoredRow>(
        `select ${EVENT_FIELDS} from events where stream_id = ? and stream_position >= ? and stream_position <= ? order by stream_position limit ?`,
      ),
      cacheGet: s.prepare<[string], { key: string; model: string; response: string; prompt_tokens: number; completion_tokens: number; cached_tokens: number; created_at: string }>(
        'select key, model, response, prompt_tokens, completion_tokens, cached_tokens, created_at from llm_cache where key = ?',
      ),
      cacheInsert: s.prepare(
        'insert into llm_cache (key, model, response, prompt_tokens, completion_tokens, cached_tokens, created_at) values (?, ?, ?, ?, ?, ?, ?) on conflict (key) do nothing',
      ),
      cacheReplace: s.prepare(
        `insert into llm_cache (key, model, response, prompt_tokens, completion_tokens, cached_tokens, created_at) values (?, ?, ?, ?, ?, ?, ?)
         on conflict (key) do update set response = excluded.response, prompt_tokens = excluded.prompt_tokens,
           completion_tokens = excluded.completion_tokens, cached_tokens = excluded.cached_tokens, created_at = excluded.created_at
         where substr(llm_cache.response, 1, ?) = ?`,
      ),
      lease: s.prepare<[number], LeaseTableRow>('select run_id, host, pid, acquired_at, heartbeat_at from run_leases where run_id = ?'),
      putLease: s.prepare(
        `insert into run_leases (run_id, host, pid, acquired_at, heartbeat_at) values (?, ?, ?, ?, ?)
         on conflict (run_id) do update set host = excluded.host, pid = excluded.pid, acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at`,
      ),
      renewLease: s.prepare('update run_leases set heartbeat_at = ? where run_id = ? and host = ? and pid = ?'),
      dropLease: s.prepare('delete from run_leases where run_id = ? and host = ? and pid = ?'),
    };
  }

  /** A cached multi-row insert for `rows` events (statement overhead, not SQLite, dominated single-row inserts). */
  private insertStatement(rows: number): BetterSqlite3.Statement {
    if (rows === INSERT_CHUNK) return this.s.insertChunk;
    let statement = this.smallInserts.get(rows);
    if (!statement) this.smallInserts.set(rows, (statement = this.sqlite.prepare(insertEventsSql(rows))));
    return statement;
  }

  // ---- runs ---------------------------------------------------------------------------------

  async createRun(input: NewRun): Promise<number> {
    const result = this.sqlite
      .prepare<unknown[], { id: number }>('insert into runs (id, created_at, seed, config, code_version, status) values (?, ?, ?, ?, ?, ?) returning id')
      .get(input.id ?? null, input.createdAt, input.seed, canonicalJson(input.config), input.codeVersion, input.status ?? 'running')!;
    return Number(result.id);
  }

  async deleteRun(runId: number): Promise<void> {
    const streams = (await this.runStreams(runId)).map((s) => s.streamId);
    this.sqlite
      .transaction(() => {
        this.projections.clear(runId, streams);
        for (const stream of streams) {
          this.sqlite.prepare('delete from events where stream_id = ?').run(stream);
          this.sqlite.prepare('delete from streams where stream_id = ?').run(stream);
        }
        this.sqlite.prepare('delete from run_leases where run_id = ?').run(runId);
        this.sqlite.prepare('delete from run_spend where run_id = ?').run(runId);
        this.sqlite.prepare('delete from runs where id = ?').run(runId);
      })
      .immediate();
  }

  async setRunStatus(runId: number, status: RunStatus): Promise<void> {
    this.sqlite.prepare('update runs set status = ? where id = ?').run(status, runId);
  }

  async runSpend(runId: number): Promise<number> {
    return this.sqlite.prepare<[number], { spent_usd: number }>('select spent_usd from run_spend where run_id = ?').get(runId)?.spent_usd ?? 0;
  }

  async addRunSpend(runId: number, usd: number, cap?: number | null): Promise<{ added: boolean; total: number }> {
    const tx = this.sqlite.transaction(() => {
      const current = this.sqlite.prepare<[number], { spent_usd: number }>('select spent_usd from run_spend where run_id = ?').get(runId)?.spent_usd ?? 0;
      const total = current + usd;
      if (cap !== undefined && cap !== null && usd > 0 && total > cap) return { added: false, total: current };
      this.sqlite.prepare('insert into run_spend (run_id, spent_usd) values (?, ?) on conflict (run_id) do update set spent_usd = excluded.spent_usd').run(runId, total);
      return { added: true, total };
    });
    return this.writeLock ? this.writeLock.run(() => tx.immediate()) : tx.immediate();
  }

  async getRun(runId: number): Promise<RunRow> {
    const row = this.sqlite.prepare<[number], RunTableRow>(`select ${RUN_FIELDS} from runs where id = ?`).get(runId);
    if (!row) throw new RunNotFoundError(`${this.location}: no run with id ${runId} (see \`sim runs\`)`);
    return toRunRow(row);
  }

  async listRunRows(): Promise<RunRow[]> {
    return this.sqlite.prepare<[], RunTableRow>(`select ${RUN_FIELDS} from runs order by id`).all().map(toRunRow);
  }

  async latestRunId(): Promise<number | null> {
    const row = this.sqlite.prepare<[], { id: number }>('select id from runs order by id desc limit 1').get();
    return row ? Number(row.id) : null;
  }

  async runProgress(runIds: readonly number[]): Promise<StreamProgress[]> {
    if (runIds.length === 0) return [];
    // Per stream: its head; its last event and its last RoundCompleted, each found walking the
    // (stream_id, stream_position) index backwards from the end; its fallbacks from their partial
    // index (the type is written out: SQLite uses a partial index only for a query naming its terms).
    const rows = this.sqlite
      .prepare<number[], { stream_id: string; run_id: number; name: string; last_position: number; last_hash: string; last_round: number | null; last_type: string | null; last_stream_position: number | null; last_event_hash: string | null; fell_back: number }>(
        `select s.stream_id, s.run_id, s.name, s.last_position, s.last_hash,
          (select e.round from events e where e.stream_id = s.stream_id and e.type = 'RoundCompleted' order by e.stream_position desc limit 1) as last_round,
          l.type as last_type, l.stream_position as last_stream_position, l.hash as last_event_hash,
          (select count(*) from events e where e.stream_id = s.stream_id and e.type = 'DecisionFellBack') as fell_back
        from streams s left join events l on l.stream_id = s.stream_id and l.stream_position = (select max(e.stream_position) from events e where e.stream_id = s.stream_id)
        where s.run_id in (${runIds.map(() => '?').join(', ')}) order by s.run_id, s.name`,
      )
      .all(...runIds);
    return rows.map((r) => ({
      runId: Number(r.run_id),
      streamId: r.stream_id,
      name: r.name,
      position: Number(r.last_position),
      hash: r.last_hash,
      lastRound: r.last_round === null ? null : Number(r.last_round),
      lastType: r.last_type,
      fellBack: Number(r.fell_back),
      lastEvent: r.last_stream_position === null ? null : { position: Number(r.last_stream_position), hash: r.last_event_hash ?? '' },
    }));
  }

  // ---- streams ------------------------------------------------------------------------------

  async runStreams(runId: number): Promise<StreamInfo[]> {
    const rows = this.sqlite
      .prepare<number[], { stream_id: string; run_id: number; name: string; last_position: number; last_hash: string }>('select stream_id, name, last_position, last_hash from streams where run_id = ? order by name')
      .all(runId);
    return rows.map((r) => ({ streamId: r.stream_id, name: r.name, position: Number(r.last_position), hash: r.last_hash }));
  }

  private headNow(stream: string): StreamHead {
    const row = this.s.head.get(stream);
    return row ? { position: Number(row.last_position), hash: row.last_hash } : EMPTY_STREAM;
  }

  async head(stream: string): Promise<StreamHead> {
    return this.headNow(stream);
  }

  /**
   * Payloads and hashes are computed before the transaction, against the head read then, so the
   * write lock is held only for the inserts; the transaction checks that the head has not moved.
   */
  async append(batch: AppendBatch<E>): Promise<Array<Recorded<E>>> {
    const { runId, stream, expectedPosition, events } = batch;
    const st = this.s;
    let seen: StreamHead;
    try {
      seen = this.headNow(stream.id);
    } catch (error) {
      throw describeSqliteError(this.location, error, `appending to ${stream.id}`);
    }
    if (seen.position !== expectedPosition) throw new StreamConflictError(stream.id, expectedPosition, seen.position);
    const sealed = sealBatch(stream.id, seen, events, this.codec.schemaVersion);
    const { recorded, payloads } = sealed;
    // Every row's eight column values, one after another, as the multi-row inserts take them.
    const params = new Array<unknown>(events.length * EVENT_COLUMNS);
    for (let i = 0; i < recorded.length; i++) {
      const e = recorded[i];
      const at = i * EVENT_COLUMNS;
      params[at] = stream.id;
      params[at + 1] = e.streamPosition;
      params[at + 2] = e.meta.round;
      params[at + 3] = e.type;
      params[at + 4] = e.meta.agentId;
      params[at + 5] = payloads[i];
      params[at + 6] = e.schemaVersion;
      params[at + 7] = e.hash;
    }

    const tx = this.sqlite.transaction((): void => {
      const row = st.head.get(stream.id);
      const head = row ? { position: Number(row.last_position), hash: row.last_hash } : EMPTY_STREAM;
      if (head.position !== seen.position || head.hash !== seen.hash) throw new StreamConflictError(stream.id, expectedPosition, head.position);
      if (!row) st.insertStream.run(stream.id, runId, stream.name, 0, '');
      for (let start = 0; start < events.length; start += INSERT_CHUNK) {
        const n = Math.min(INSERT_CHUNK, events.length - start);
        const last = Number(this.insertStatement(n).run(params.slice(start * EVENT_COLUMNS, (start + n) * EVENT_COLUMNS)).lastInsertRowid);
        for (let j = 0; j < n; j++) recorded[start + j].position = last - n + 1 + j;
      }
      st.updateHead.run(sealed.head.position, sealed.head.hash, stream.id);
      if (batch.projections) this.projections.apply(batch.projections);
      if (batch.cache) for (const c of batch.cache) st.cacheInsert.run(...cacheParams(c));
    });
    try {
      if (this.writeLock) this.writeLock.run(() => tx.immediate());
      else tx.immediate();
      return recorded;
    } catch (error) {
      if (error instanceof StreamConflictError) throw error;
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new StreamConflictError(stream.id, expectedPosition, this.headNow(stream.id).position);
      }
      if (error instanceof Error && !(error as { code?: string }).code) throw error;
      throw describeSqliteError(this.location, error, `appending to ${stream.id}`);
    }
  }

  /**
   * The first stream position where this store's stream and a stream of another SQLite file differ:
   * a row on one side only, or a row whose type, round, agent, payload or hash differs (the global
   * position is not compared). Compared inside SQLite, on a read-only connection of its own with the
   * other file attached, so no row crosses into JavaScript: a 2,000-agent replay's comparison took a
   * fifth of the CPU of reading both streams' rows (docs/performance.md). Null when the streams are equal.
   */
  async firstDifference(stream: string, other: { backend: string; location: string }, otherStream: string): Promise<number | null> {
    if (other.backend !== 'sqlite') throw new Error(`firstDifference: ${other.location} is not a SQLite store`);
    const { sqlite } = await openDatabase(this.location, { readonly: true });
    try {
      sqlite.prepare('attach database ? as other').run(other.location);
      // Every page of both streams is read once: mapped, they cost about half the CPU of read() calls.
      sqlite.pragma(`main.mmap_size = ${SCAN_MMAP_BYTES}`);
      sqlite.pragma(`other.mmap_size = ${SCAN_MMAP_BYTES}`);
      const differs = (from: string, to: string) =>
        sqlite
          .prepare<{ from: string; to: string }, { p: number }>(
            `select a.stream_position as p from ${from}.events a left join ${to}.events b on b.stream_id = @to and b.stream_position = a.stream_position
             where a.stream_id = @from and (b.stream_position is null or a.hash <> b.hash or a.payload <> b.payload or a.type <> b.type or a.round <> b.round or a.agent_id is not b.agent_id)
             order by a.stream_position limit 1`,
          )
          .get({ from: from === 'main' ? stream : otherStream, to: to === 'main' ? stream : otherStream });
      // Rows that differ or are missing on the other side; then rows of the other side missing here.
      const here = differs('main', 'other');
      const there = differs('other', 'main');
      if (!here && !there) return null;
      return Math.min(Number(here?.p ?? Infinity), Number(there?.p ?? Infinity));
    } catch (error) {
      throw describeSqliteError(this.location, error, `comparing ${stream} with ${other.location}`);
    } finally {
      sqlite.close();
    }
  }

  async lastEventType(stream: string): Promise<string | null> {
    return this.s.lastType.get(stream)?.type ?? null;
  }

  /** Pages of stored rows, by keyset on the stream position. */
  private *rowPages(stream: string, range: ReadRange = {}): Generator<StoredRow[]> {
    let from = range.from ?? 1;
    const to = range.to ?? Number.MAX_SAFE_INTEGER;
    for (;;) {
      const rows = this.s.rows.all(stream, from, to, PAGE);
      if (rows.length === 0) return;
      yield rows;
      if (rows.length < PAGE) return;
      from = Number(rows[rows.length - 1].stream_position) + 1;
    }
  }

  async *rawEvents(stream: string, range?: ReadRange): AsyncGenerator<StoredRow[]> {
    yield* this.rowPages(stream, range);
  }

  private decode(row: StoredRow): Recorded<E> {
    return decodeRow<E>(row, this.codec.decode, (message) => new DatabaseError(message));
  }

  async *readStream(stream: string, range?: ReadRange): AsyncGenerator<Array<Recorded<E>>> {
    await this.codec.load?.();
    for (const rows of this.rowPages(stream, range)) yield rows.map((r) => this.decode(r));
  }

  async *eventsOfTypes(stream: string, types: readonly string[], options: { beforeRound?: number } = {}): AsyncGenerator<StoredRow[]> {
    const key = `${types.length}:${options.beforeRound === undefined ? '' : 'r'}`;
    let statement = this.typeQueries.get(key) as BetterSqlite3.Statement<unknown[], StoredRow> | undefined;
    if (!statement) {
      const round = options.beforeRound === undefined ? '' : ' and round < ?';
      statement = this.sqlite.prepare(
        `select ${EVENT_FIELDS} from events where stream_id = ? and stream_position > ? and type in (${types.map(() => '?').join(', ')})${round} order by stream_position limit ${PAGE}`,
      );
      this.typeQueries.set(key, statement);
    }
    let after = 0;
    for (;;) {
      const args: unknown[] = [stream, after, ...types];
      if (options.beforeRound !== undefined) args.push(options.beforeRound);
      const rows = statement.all(...args);
      if (rows.length === 0) return;
      yield rows;
      if (rows.length < PAGE) return;
      after = Number(rows[rows.length - 1].stream_position);
    }
  }

  async maxRoundOf(stream: string, type: string): Promise<number | null> {
    // The last one by position, found from the end of the stream's index (a max would read them all).
    const row = this.sqlite.prepare<[string, string], { round: number | null }>('select round from events where stream_id = ? and type = ? order by stream_position desc limit 1').get(stream, type);
    return row?.round === null || row?.round === undefined ? null : Number(row.round);
  }

  async countRunEvents(runId: number, matches: ReadonlyArray<{ type: string; payload?: string }>): Promise<number> {
    if (matches.length === 0) return 0;
    const params: unknown[] = [runId];
    const terms = matches.map((m) => {
      params.push(m.type);
      if (m.payload === undefined) return '(events.type = ?)';
      params.push(m.payload);
      return '(events.type = ? and events.payload = ?)';
    });
    const row = this.sqlite
      .prepare<unknown[], { n: number }>(`select count(*) as n from events inner join streams on streams.stream_id = events.stream_id where streams.run_id = ? and (${terms.join(' or ')})`)
      .get(...params)!;
    return Number(row.n);
  }

  // ---- integrity ----------------------------------------------------------------------------

  /**
   * One pass over a stream's stored rows. SQLite builds each event's hashed text, so each row
   * crosses into JavaScript as two strings instead of eight values: this runs before every report
   * and export, over millions of events.
   */
  private checkChain(stream: string): { broken: ChainBreak | null; events: number } {
    const check = new ChainCheck();
    let after = 0;
    for (;;) {
      const rows = this.s.chainRows.all(stream, after, PAGE) as Array<[number, number, string, string]>;
      if (rows.length === 0 || !check.feed(rows) || rows.length < PAGE) break;
      after = Number(rows[rows.length - 1][1]);
    }
    return check.finish(this.headNow(stream));
  }

  async verifyStream(stream: string): Promise<ChainBreak | null> {
    return this.checkChain(stream).broken;
  }

  async verifyStreams(ids: readonly string[]): Promise<{ streams: number; events: number }> {
    let events = 0;
    for (const id of ids) {
      const { broken, events: n } = this.checkChain(id);
      if (broken) throw integrityError(this.location, id, broken);
      events += n;
    }
    return { streams: ids.length, events };
  }

  async headMismatch(stream: string): Promise<string | null> {
    const last = this.s.lastEvent.get(stream);
    return describeHeadMismatch(stream, this.headNow(stream), last ? { position: Number(last.stream_position), hash: last.hash } : null);
  }

  async fingerprint(runId: number): Promise<string> {
    return fingerprintOf(await this.runStreams(runId));
  }

  // ---- projections --------------------------------------------------------------------------

  async personas(runId: number): Promise<Array<{ agentId: number; persona: string }>> {
    const rows = this.sqlite.prepare<[number], { agent_id: number; persona: string }>('select agent_id, persona from proj_personas where run_id = ? order by agent_id').all(runId);
    return rows.map((r) => ({ agentId: Number(r.agent_id), persona: r.persona }));
  }

  async projectedAgents(stream: string): Promise<ProjAgentRow[]> {
    const rows = this.sqlite
      .prepare<[string], Record<'agent_id' | 'eligible' | 'following' | 'followers' | 'liked' | 'replied' | 'posted' | 'seen' | 'treated', number> & { last_likelihood: number | null; voted: number | null }>(
        'select agent_id, eligible, following, followers, liked, replied, posted, seen, last_likelihood, treated, voted from proj_agents where stream_id = ? order by agent_id',
      )
      .all(stream);
    return rows.map((a) => ({
      agentId: Number(a.agent_id),
      eligible: Number(a.eligible),
      following: Number(a.following),
      followers: Number(a.followers),
      liked: Number(a.liked),
      replied: Number(a.replied),
      posted: Number(a.posted),
      seen: Number(a.seen),
      lastLikelihood: a.last_likelihood === null ? null : Number(a.last_likelihood),
      treated: Number(a.treated),
      voted: a.voted === null ? null : Number(a.voted),
    }));
  }

  async projectedTreatment(stream: string): Promise<Array<{ agentId: number; period: number }>> {
    const rows = this.sqlite.prepare<[string], { agent_id: number; period: number }>('select agent_id, period from proj_treatment where stream_id = ? order by agent_id, period').all(stream);
    return rows.map((t) => ({ agentId: Number(t.agent_id), period: Number(t.period) }));
  }

  async projectedRounds(stream: string): Promise<ProjRoundRow[]> {
    const rows = this.sqlite
      .prepare<[string], { agent_id: number; round: number; active: number; likelihood: number | null; engagement: number }>(
        'select agent_id, round, active, likelihood, engagement from proj_agent_rounds where stream_id = ? order by agent_id, round',
      )
      .all(stream);
    return rows.map((r) => ({ agentId: Number(r.agent_id), round: Number(r.round), active: Number(r.active), likelihood: r.likelihood === null ? null : Number(r.likelihood), engagement: Number(r.engagement) }));
  }

  async rebuildProjections(runId: number, streams: readonly string[], project: (stream: string, events: Array<Recorded<E>>) => ProjectionOp[]): Promise<number> {
    await this.codec.load?.();
    let count = 0;
    this.sqlite
      .transaction(() => {
        this.projections.clear(runId, streams);
        for (const stream of streams) {
          for (const rows of this.rowPages(stream)) {
            count += rows.length;
            this.projections.apply(project(stream, rows.map((r) => this.decode(r))));
          }
        }
      })
      .immediate();
    return count;
  }

  // ---- the LLM cache ------------------------------------------------------------------------

  async cacheGet(key: string): Promise<CacheRow | null> {
    const row = this.s.cacheGet.get(key);
    return row ? cacheRowOf(row) : null;
  }

  async cacheGetMany(keys: readonly string[]): Promise<Map<string, CacheRow>> {
    return this.cacheLookups(keys);
  }

  /**
   * SQLite is in the process: a prepared lookup per key costs less than building one statement. The
   * lookups share one read transaction: a statement outside a transaction opens and closes one of its
   * own, taking and dropping the WAL read lock (system calls) each time, which was half of a replay's
   * lookup (16-19 µs of CPU per key instead of 7-9 µs, docs/performance.md).
   */
  private readonly cacheLookups: (keys: readonly string[]) => Map<string, CacheRow>;

  async cachePut(rows: readonly CacheRow[], replaceable?: string): Promise<void> {
    if (rows.length === 0 || !this.sqlite.open) return;
    this.sqlite.transaction(() => {
      for (const row of rows) {
        if (replaceable === undefined) this.s.cacheInsert.run(...cacheParams(row));
        else this.s.cacheReplace.run(...cacheParams(row), replaceable.length, replaceable);
      }
    })();
  }

  async cacheCount(prefix?: string): Promise<number> {
    const row =
      prefix === undefined
        ? this.sqlite.prepare<[], { n: number }>('select count(*) as n from llm_cache').get()!
        : this.sqlite.prepare<[number, string], { n: number }>('select count(*) as n from llm_cache where substr(response, 1, ?) = ?').get(prefix.length, prefix)!;
    return Number(row.n);
  }

  async *cacheRows(): AsyncGenerator<CacheRow[]> {
    let after = '';
    for (;;) {
      const rows = this.sqlite
        .prepare<[string, number], CacheTableRow>('select key, model, response, prompt_tokens, completion_tokens, cached_tokens, created_at from llm_cache where key > ? order by key limit ?')
        .all(after, PAGE);
      if (rows.length === 0) return;
      yield rows.map(toCacheRow);
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1].key;
    }
  }

  // ---- leases -------------------------------------------------------------------------------

  /** The leases this store holds, with their heartbeat timers. */
  private readonly leases = new Map<number, { host: string; pid: number; timer: NodeJS.Timeout }>();

  private leaseRow(runId: number): Lease | null {
    const row = this.s.lease.get(runId);
    return row ? { runId: Number(row.run_id), host: row.host, pid: Number(row.pid), acquiredAt: row.acquired_at, heartbeatAt: row.heartbeat_at } : null;
  }

  /** Writes go through the threads' shared lock when there is one (see write-lock.ts). */
  private write<T>(work: () => T): T {
    return this.writeLock ? this.writeLock.run(work) : work();
  }

  async currentLease(runId: number): Promise<Lease | null> {
    const row = this.leaseRow(runId);
    if (!row) return null;
    const own = this.leases.get(runId);
    return (own && own.host === row.host && own.pid === row.pid) || leaseIsFresh(row, Date.now()) ? row : null;
  }

  async claimRun(claimant: Lease): Promise<Lease | null> {
    const held = this.write(() =>
      this.sqlite
        .transaction((): Lease | null => {
          const row = this.leaseRow(claimant.runId);
          if (row && !(row.host === claimant.host && row.pid === claimant.pid) && leaseIsFresh(row, Date.now())) return row;
          this.s.putLease.run(claimant.runId, claimant.host, claimant.pid, claimant.acquiredAt, new Date().toISOString());
          return null;
        })
        .immediate(),
    );
    if (held) return held;
    const { runId, host, pid } = claimant;
    clearInterval(this.leases.get(runId)?.timer);
    // The heartbeat never keeps the process alive; a failed renewal (the file busy for longer than
    // busy_timeout) is tried again at the next beat, and the lease lapses only after LEASE_EXPIRY_MS.
    const timer = setInterval(() => {
      try {
        const renewed = this.write(() => this.s.renewLease.run(new Date().toISOString(), runId, host, pid));
        // Taken over (this process froze past the expiry): stop renewing someone else's lease. The
        // streams' expected positions still keep the two processes from writing the same round.
        if (renewed.changes === 0) this.stopHeartbeat(runId);
      } catch {
        // Tried again at the next beat.
      }
    }, HEARTBEAT_MS);
    timer.unref();
    this.leases.set(runId, { host, pid, timer });
    return null;
  }

  private stopHeartbeat(runId: number): void {
    clearInterval(this.leases.get(runId)?.timer);
    this.leases.delete(runId);
  }

  async releaseLease(runId: number): Promise<void> {
    const own = this.leases.get(runId);
    if (!own) return;
    this.stopHeartbeat(runId);
    this.write(() => this.s.dropLease.run(runId, own.host, own.pid));
  }
}

type LeaseTableRow = { run_id: number; host: string; pid: number; acquired_at: string; heartbeat_at: string | null };

type CacheTableRow = { key: string; model: string; response: string; prompt_tokens: number; completion_tokens: number; cached_tokens: number; created_at: string };

function toCacheRow(row: CacheTableRow): CacheRow {
  return {
    key: row.key,
    model: row.model,
    response: row.response,
    promptTokens: Number(row.prompt_tokens),
    completionTokens: Number(row.completion_tokens),
    cachedTokens: Number(row.cached_tokens),
    createdAt: row.created_at,
  };
}

function cacheParams(c: CacheRow): unknown[] {
  return [c.key, c.model, c.response, c.promptTokens, c.completionTokens, c.cachedTokens, c.createdAt];
}

const RUN_FIELDS = 'id, created_at, seed, config, code_version, status';
type RunTableRow = { id: number; created_at: string; seed: number; config: string; code_version: string; status: string };

function toRunRow(row: RunTableRow): RunRow {
  return {
    id: Number(row.id),
    createdAt: row.created_at,
    seed: Number(row.seed),
    config: JSON.parse(row.config),
    codeVersion: row.code_version,
    status: row.status as RunStatus,
  };
}
