import { sql, type Kysely, type Transaction } from 'kysely';
import pg from 'pg';
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
import type { Database } from '../schema.js';
import { HEARTBEAT_MS } from '../leases.js';
import { connectionLost, describePostgresError, isConnectionLost, openPostgres } from './database.js';
import { applyProjections, clearProjections } from './projections.js';

type Db = Kysely<Database> | Transaction<Database>;

const PAGE = 4096;
const EVENT_FIELDS = sql.raw('position, stream_id, stream_position, round, type, agent_id, payload, schema_version, hash');

/** `eventHashInput` without the previous hash, built by PostgreSQL from a stored row (to_json quotes like JSON.stringify). */
const HASH_INPUT_SQL = sql.raw(
  `'{"agentId":' || coalesce(agent_id::text, 'null') || ',"data":' || payload || ',"round":' || round::text || ',"streamPosition":' || stream_position::text || ',"type":' || to_json(type)::text || ',"v":' || schema_version::text || '}'`,
);

/**
 * The PostgreSQL backend (kysely's PostgresDialect over a `pg` pool). Appends run at READ COMMITTED:
 * the stream's head row is locked (`select ... for update`) and compared with the head the batch was
 * sealed against, so of two concurrent appenders at the same position one commits and the other gets
 * StreamConflictError; the unique (stream_id, stream_position) index backs this up. Commits use
 * `synchronous_commit = off`: like SQLite's WAL with synchronous=NORMAL, a committed batch survives a
 * crash of sim, and only a crash of the server's machine can lose the last moments of commits.
 */
export class PostgresStore<E extends NewEvent> implements Store<E> {
  readonly backend = 'postgres' as const;

  private constructor(
    private readonly url: string,
    readonly location: string,
    readonly db: Kysely<Database>,
    private readonly codec: EventCodec<E>,
  ) {}

  static async open<E extends NewEvent>(url: string, display: string, codec: EventCodec<E>, options: { mustExist: boolean }): Promise<PostgresStore<E> | null> {
    const opened = await openPostgres(url, display, options);
    return opened ? new PostgresStore(url, display, opened.db, codec) : null;
  }

  /** A session of its own for the cache's reservations (session-level advisory locks), opened on first use. */
  private reservations: Promise<pg.Client> | null = null;
  /** Keys this process holds: advisory locks are re-entrant within a session, so jobs of one process are told apart here. */
  private readonly held = new Set<string>();

  async close(): Promise<void> {
    const leases = [...this.leases.values()];
    this.leases.clear();
    for (const lease of leases) await lease.end();
    const reservations = this.reservations;
    this.reservations = null;
    if (reservations) await reservations.then((client) => client.end()).catch(() => undefined);
    await this.db.destroy();
  }

  handoff(): StoreHandoff {
    return { location: this.url };
  }

  private fail(error: unknown, doing: string): Error {
    if (error instanceof StreamConflictError || error instanceof RunNotFoundError) return error;
    // The pool's queries report a lost connection already; the reservation session's are told here.
    if (isConnectionLost(error)) return connectionLost(this.location, error);
    return describePostgresError(this.location, error, doing);
  }

  // ---- runs ---------------------------------------------------------------------------------

  async createRun(input: NewRun): Promise<number> {
    const result = await this.db
      .insertInto('runs')
      .values({ ...(input.id === undefined ? {} : { id: input.id }), created_at: input.createdAt, seed: input.seed, config: canonicalJson(input.config), code_version: input.codeVersion, status: input.status ?? 'running' })
      .returning('id')
      .executeTakeFirstOrThrow();
    // A run recorded under a given id (a copy) must not be handed out again by the identity.
    if (input.id !== undefined) await sql`select setval(pg_get_serial_sequence('runs', 'id'), greatest((select max(id) from runs), 1))`.execute(this.db);
    return Number(result.id);
  }

  async deleteRun(runId: number): Promise<void> {
    const streams = (await this.runStreams(runId)).map((s) => s.streamId);
    await this.db.transaction().execute(async (trx) => {
      await clearProjections(trx, runId, streams);
      await sql`delete from events where stream_id = any(${streams}::text[])`.execute(trx);
      await sql`delete from streams where run_id = ${runId}`.execute(trx);
      await sql`delete from run_leases where run_id = ${runId}`.execute(trx);
      await sql`delete from run_spend where run_id = ${runId}`.execute(trx);
      await sql`delete from runs where id = ${runId}`.execute(trx);
    });
  }

  async setRunStatus(runId: number, status: RunStatus): Promise<void> {
    await this.db.updateTable('runs').set({ status }).where('id', '=', runId).execute();
  }

  async runSpend(runId: number): Promise<number> {
    const row = await this.db.selectFrom('run_spend').select('spent_usd').where('run_id', '=', runId).executeTakeFirst();
    return row ? Number(row.spent_usd) : 0;
  }

  async addRunSpend(runId: number, usd: number, cap?: number | null): Promise<{ added: boolean; total: number }> {
    // One statement: the row is created or updated only when the cap allows, atomically against other workers.
    const limit = cap === undefined || cap === null || usd <= 0 ? null : cap;
    const added = await sql<{ spent_usd: number }>`insert into run_spend as s (run_id, spent_usd) select ${runId}, ${usd}::double precision where ${limit}::double precision is null or ${usd}::double precision <= ${limit}::double precision
      on conflict (run_id) do update set spent_usd = s.spent_usd + excluded.spent_usd where ${limit}::double precision is null or s.spent_usd + excluded.spent_usd <= ${limit}::double precision
      returning spent_usd`.execute(this.db);
    if (added.rows.length > 0) return { added: true, total: Number(added.rows[0].spent_usd) };
    return { added: false, total: await this.runSpend(runId) };
  }

  async getRun(runId: number): Promise<RunRow> {
    const row = await this.db.selectFrom('runs').selectAll().where('id', '=', runId).executeTakeFirst();
    if (!row) throw new RunNotFoundError(`${this.location}: no run with id ${runId} (see \`sim runs\`)`);
    return toRunRow(row);
  }

  async listRunRows(): Promise<RunRow[]> {
    return (await this.db.selectFrom('runs').selectAll().orderBy('id').execute()).map(toRunRow);
  }

  async latestRunId(): Promise<number | null> {
    const row = await this.db.selectFrom('runs').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
    return row ? Number(row.id) : null;
  }

  async runProgress(runIds: readonly number[]): Promise<StreamProgress[]> {
    if (runIds.length === 0) return [];
    // Per stream: its head; its last event and its last RoundCompleted, each found walking the
    // (stream_id, stream_position) index backwards from the end; its fallbacks from their partial index.
    const rows = await sql<{ stream_id: string; run_id: number; name: string; last_position: number; last_hash: string; last_round: number | null; last_type: string | null; last_stream_position: number | null; last_event_hash: string | null; fell_back: number }>`
      select s.stream_id, s.run_id, s.name, s.last_position, s.last_hash,
        (select e.round from events e where e.stream_id = s.stream_id and e.type = 'RoundCompleted' order by e.stream_position desc limit 1) as last_round,
        l.type as last_type, l.stream_position as last_stream_position, l.hash as last_event_hash,
        (select count(*) from events e where e.stream_id = s.stream_id and e.type = 'DecisionFellBack') as fell_back
      from streams s left join lateral (select e.type, e.stream_position, e.hash from events e where e.stream_id = s.stream_id order by e.stream_position desc limit 1) l on true
      where s.run_id = any(${[...runIds]}::int[]) order by s.run_id, s.name collate "C"`.execute(this.db);
    return rows.rows.map((r) => ({
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
    const rows = await sql<{ stream_id: string; run_id: number; name: string; last_position: number; last_hash: string }>`
      select stream_id, name, last_position, last_hash from streams where run_id = ${runId} order by name collate "C"`.execute(this.db);
    return rows.rows.map((r) => ({ streamId: r.stream_id, name: r.name, position: Number(r.last_position), hash: r.last_hash }));
  }

  private async headIn(db: Db, stream: string, lock = false): Promise<{ head: StreamHead; exists: boolean }> {
    const rows = lock
      ? await sql<{ last_position: number; last_hash: string }>`select last_position, last_hash from streams where stream_id = ${stream} for update`.execute(db)
      : await sql<{ last_position: number; last_hash: string }>`select last_position, last_hash from streams where stream_id = ${stream}`.execute(db);
    const row = rows.rows[0];
    return row ? { head: { position: Number(row.last_position), hash: row.last_hash }, exists: true } : { head: EMPTY_STREAM, exists: false };
  }

  async head(stream: string): Promise<StreamHead> {
    try {
      return (await this.headIn(this.db, stream)).head;
    } catch (error) {
      throw this.fail(error, `reading ${stream}`);
    }
  }

  async append(batch: AppendBatch<E>): Promise<Array<Recorded<E>>> {
    const { runId, stream, expectedPosition, events } = batch;
    const seen = await this.head(stream.id);
    if (seen.position !== expectedPosition) throw new StreamConflictError(stream.id, expectedPosition, seen.position);
    const sealed = sealBatch(stream.id, seen, events, this.codec.schemaVersion);
    const { recorded, payloads } = sealed;
    try {
      await this.db.transaction().execute(async (trx) => {
        await sql`set local synchronous_commit = off`.execute(trx);
        if (seen.position === 0) {
          await sql`insert into streams (stream_id, run_id, name, last_position, last_hash) values (${stream.id}, ${runId}, ${stream.name}, 0, '') on conflict (stream_id) do nothing`.execute(trx);
        }
        const { head } = await this.headIn(trx, stream.id, true);
        if (head.position !== seen.position || head.hash !== seen.hash) throw new StreamConflictError(stream.id, expectedPosition, head.position);
        if (recorded.length > 0) {
          const inserted = await sql<{ position: number; stream_position: number }>`
            insert into events (stream_id, stream_position, round, type, agent_id, payload, schema_version, hash)
            select ${stream.id}, t.sp, t.r, t.ty, t.a, t.p, ${this.codec.schemaVersion}, t.h
            from unnest(${recorded.map((e) => e.streamPosition)}::bigint[], ${recorded.map((e) => e.meta.round)}::int[], ${recorded.map((e) => e.type)}::text[],
              ${recorded.map((e) => e.meta.agentId)}::int[], ${payloads}::text[], ${recorded.map((e) => e.hash)}::text[]) with ordinality as t(sp, r, ty, a, p, h, n)
            order by t.n
            returning position, stream_position`.execute(trx);
          const first = recorded[0].streamPosition;
          for (const row of inserted.rows) recorded[Number(row.stream_position) - first].position = Number(row.position);
        }
        await sql`update streams set last_position = ${sealed.head.position}, last_hash = ${sealed.head.hash} where stream_id = ${stream.id}`.execute(trx);
        if (batch.projections) await applyProjections(trx, batch.projections);
        if (batch.cache && batch.cache.length > 0) await this.insertCache(trx, batch.cache, undefined);
      });
      return recorded;
    } catch (error) {
      if (error instanceof StreamConflictError) throw error;
      if ((error as { code?: string }).code === '23505' && /events/.test((error as { constraint?: string }).constraint ?? (error as Error).message)) {
        throw new StreamConflictError(stream.id, expectedPosition, (await this.head(stream.id)).position);
      }
      throw this.fail(error, `appending to ${stream.id}`);
    }
  }

  async lastEventType(stream: string): Promise<string | null> {
    const rows = await sql<{ type: string }>`select type from events where stream_id = ${stream} order by stream_position desc limit 1`.execute(this.db);
    return rows.rows[0]?.type ?? null;
  }

  private async page(db: Db, stream: string, from: number, to: number): Promise<StoredRow[]> {
    const rows = await sql<StoredRow>`select ${EVENT_FIELDS} from events where stream_id = ${stream} and stream_position >= ${from} and stream_position <= ${to}
      order by stream_position limit ${PAGE}`.execute(db);
    return rows.rows.map(numericRow);
  }

  private async *rowPages(db: Db, stream: string, range: ReadRange = {}): AsyncGenerator<StoredRow[]> {
    let from = range.from ?? 1;
    const to = range.to ?? Number.MAX_SAFE_INTEGER;
    for (;;) {
      const rows = await this.page(db, stream, from, to);
      if (rows.length === 0) return;
      yield rows;
      if (rows.length < PAGE) return;
      from = rows[rows.length - 1].stream_position + 1;
    }
  }

  rawEvents(stream: string, range?: ReadRange): AsyncGenerator<StoredRow[]> {
    return this.rowPages(this.db, stream, range);
  }

  private decode(row: StoredRow): Recorded<E> {
    return decodeRow<E>(row, this.codec.decode, (message) => new DatabaseError(message));
  }

  async *readStream(stream: string, range?: ReadRange): AsyncGenerator<Array<Recorded<E>>> {
    await this.codec.load?.();
    for await (const rows of this.rowPages(this.db, stream, range)) yield rows.map((r) => this.decode(r));
  }

  async *eventsOfTypes(stream: string, types: readonly string[], options: { beforeRound?: number } = {}): AsyncGenerator<StoredRow[]> {
    let after = 0;
    const before = options.beforeRound ?? null;
    for (;;) {
      const result = await sql<StoredRow>`select ${EVENT_FIELDS} from events where stream_id = ${stream} and stream_position > ${after} and type = any(${[...types]}::text[])
        and (${before}::int is null or round < ${before}::int) order by stream_position limit ${PAGE}`.execute(this.db);
      const rows = result.rows.map(numericRow);
      if (rows.length === 0) return;
      yield rows;
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1].stream_position;
    }
  }

  async maxRoundOf(stream: string, type: string): Promise<number | null> {
    // The last one by position, found from the end of the stream's index (a max would read them all).
    const rows = await sql<{ round: number | null }>`select round from events where stream_id = ${stream} and type = ${type} order by stream_position desc limit 1`.execute(this.db);
    const round = rows.rows[0]?.round;
    return round === null || round === undefined ? null : Number(round);
  }

  async countRunEvents(runId: number, matches: ReadonlyArray<{ type: string; payload?: string }>): Promise<number> {
    if (matches.length === 0) return 0;
    const row = await this.db
      .selectFrom('events')
      .innerJoin('streams', 'streams.stream_id', 'events.stream_id')
      .where('streams.run_id', '=', runId)
      .where((eb) => eb.or(matches.map((m) => (m.payload === undefined ? eb('events.type', '=', m.type) : eb.and([eb('events.type', '=', m.type), eb('events.payload', '=', m.payload)])))))
      .select(sql<number>`count(*)`.as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  // ---- integrity ----------------------------------------------------------------------------

  private async checkChain(stream: string): Promise<{ broken: ChainBreak | null; events: number }> {
    const check = new ChainCheck();
    let after = 0;
    for (;;) {
      const result = await sql<{ position: number; stream_position: number; hashed: string; hash: string }>`
        select position, stream_position, ${HASH_INPUT_SQL} as hashed, hash from events where stream_id = ${stream} and stream_position > ${after}
        order by stream_position limit ${PAGE}`.execute(this.db);
      const rows = result.rows.map((r) => [Number(r.position), Number(r.stream_position), r.hashed, r.hash] as const);
      if (rows.length === 0 || !check.feed(rows) || rows.length < PAGE) break;
      after = rows[rows.length - 1][1];
    }
    return check.finish(await this.head(stream));
  }

  async verifyStream(stream: string): Promise<ChainBreak | null> {
    return (await this.checkChain(stream)).broken;
  }

  async verifyStreams(ids: readonly string[]): Promise<{ streams: number; events: number }> {
    let events = 0;
    for (const id of ids) {
      const { broken, events: n } = await this.checkChain(id);
      if (broken) throw integrityError(this.location, id, broken);
      events += n;
    }
    return { streams: ids.length, events };
  }

  async headMismatch(stream: string): Promise<string | null> {
    const rows = await sql<{ stream_position: number; hash: string }>`select stream_position, hash from events where stream_id = ${stream} order by stream_position desc limit 1`.execute(this.db);
    const last = rows.rows[0];
    return describeHeadMismatch(stream, await this.head(stream), last ? { position: Number(last.stream_position), hash: last.hash } : null);
  }

  async fingerprint(runId: number): Promise<string> {
    return fingerprintOf(await this.runStreams(runId));
  }

  // ---- projections --------------------------------------------------------------------------

  async personas(runId: number): Promise<Array<{ agentId: number; persona: string }>> {
    const rows = await this.db.selectFrom('proj_personas').select(['agent_id', 'persona']).where('run_id', '=', runId).orderBy('agent_id').execute();
    return rows.map((r) => ({ agentId: Number(r.agent_id), persona: r.persona }));
  }

  async projectedAgents(stream: string): Promise<ProjAgentRow[]> {
    const rows = await this.db.selectFrom('proj_agents').selectAll().where('stream_id', '=', stream).orderBy('agent_id').execute();
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
    const rows = await this.db.selectFrom('proj_treatment').select(['agent_id', 'period']).where('stream_id', '=', stream).orderBy('agent_id').orderBy('period').execute();
    return rows.map((t) => ({ agentId: Number(t.agent_id), period: Number(t.period) }));
  }

  async projectedRounds(stream: string): Promise<ProjRoundRow[]> {
    const rows = await this.db
      .selectFrom('proj_agent_rounds')
      .select(['agent_id', 'round', 'active', 'likelihood', 'engagement'])
      .where('stream_id', '=', stream)
      .orderBy('agent_id')
      .orderBy('round')
      .execute();
    return rows.map((r) => ({ agentId: Number(r.agent_id), round: Number(r.round), active: Number(r.active), likelihood: r.likelihood === null ? null : Number(r.likelihood), engagement: Number(r.engagement) }));
  }

  async rebuildProjections(runId: number, streams: readonly string[], project: (stream: string, events: Array<Recorded<E>>) => ProjectionOp[]): Promise<number> {
    await this.codec.load?.();
    let count = 0;
    await this.db.transaction().execute(async (trx) => {
      await clearProjections(trx, runId, streams);
      for (const stream of streams) {
        for await (const rows of this.rowPages(trx, stream)) {
          count += rows.length;
          await applyProjections(trx, project(stream, rows.map((r) => this.decode(r))));
        }
      }
    });
    return count;
  }

  // ---- the LLM cache ------------------------------------------------------------------------

  async cacheGet(key: string): Promise<CacheRow | null> {
    return (await this.cacheGetMany([key])).get(key) ?? null;
  }

  async cacheGetMany(keys: readonly string[]): Promise<Map<string, CacheRow>> {
    const found = new Map<string, CacheRow>();
    try {
      for (let i = 0; i < keys.length; i += PAGE) {
        const rows = await sql<{ key: string; model: string; response: string; prompt_tokens: number; completion_tokens: number; cached_tokens: number; created_at: string }>`
          select key, model, response, prompt_tokens, completion_tokens, cached_tokens, created_at from llm_cache where key = any(${keys.slice(i, i + PAGE)}::text[])`.execute(this.db);
        for (const row of rows.rows) found.set(row.key, cacheRowOf(row));
      }
    } catch (error) {
      throw this.fail(error, 'reading the LLM cache');
    }
    return found;
  }

  async cacheReserve(keys: readonly string[]): Promise<Set<string>> {
    const free = [...new Set(keys)].filter((key) => !this.held.has(key));
    for (const key of free) this.held.add(key);
    if (free.length === 0) return new Set();
    try {
      const client = await this.reservationClient();
      const got = await client.query<{ key: string }>('select key from unnest($1::text[]) key where pg_try_advisory_lock(hashtextextended(key, 0))', [free]);
      const mine = new Set(got.rows.map((r) => r.key));
      for (const key of free) if (!mine.has(key)) this.held.delete(key);
      return mine;
    } catch (error) {
      for (const key of free) this.held.delete(key);
      throw this.fail(error, 'reserving LLM requests');
    }
  }

  async cacheRelease(keys: readonly string[]): Promise<void> {
    const mine = keys.filter((key) => this.held.delete(key));
    if (mine.length === 0 || !this.reservations) return;
    try {
      const client = await this.reservations;
      await client.query('select pg_advisory_unlock(hashtextextended(key, 0)) from unnest($1::text[]) key', [mine]);
    } catch {
      // A lost session has released its locks already.
    }
  }

  private reservationClient(): Promise<pg.Client> {
    if (!this.reservations) {
      const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 10_000, application_name: 'sim cache reservations' });
      const opened = client.connect().then(() => client);
      // A session lost later (the server restarted) must not crash the process, nor stay in use: its
      // locks are gone with it, so nothing is held any more, and the next reservation opens a new one.
      const lost = () => {
        if (this.reservations !== opened) return;
        this.reservations = null;
        this.held.clear();
      };
      client.on('error', lost);
      client.on('end', lost);
      this.reservations = opened;
      opened.catch(lost);
    }
    return this.reservations;
  }

  private async insertCache(db: Db, rows: readonly CacheRow[], replaceable: string | undefined): Promise<void> {
    const values = sql`select * from unnest(${rows.map((r) => r.key)}::text[], ${rows.map((r) => r.model)}::text[], ${rows.map((r) => r.response)}::text[],
      ${rows.map((r) => r.promptTokens)}::int[], ${rows.map((r) => r.completionTokens)}::int[], ${rows.map((r) => r.cachedTokens)}::int[], ${rows.map((r) => r.createdAt)}::text[])`;
    if (replaceable === undefined) {
      await sql`insert into llm_cache (key, model, response, prompt_tokens, completion_tokens, cached_tokens, created_at) ${values} on conflict (key) do nothing`.execute(db);
    } else {
      await sql`insert into llm_cache (key, model, response, prompt_tokens, completion_tokens, cached_tokens, created_at) ${values}
        on conflict (key) do update set response = excluded.response, prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens,
          cached_tokens = excluded.cached_tokens, created_at = excluded.created_at
        where substr(llm_cache.response, 1, ${replaceable.length}) = ${replaceable}`.execute(db);
    }
  }

  async cachePut(rows: readonly CacheRow[], replaceable?: string): Promise<void> {
    if (rows.length === 0) return;
    // One statement may not touch a key twice: keep each key's last row.
    const unique = [...new Map(rows.map((r) => [r.key, r])).values()];
    try {
      await this.insertCache(this.db, unique, replaceable);
    } catch (error) {
      throw this.fail(error, 'writing the LLM cache');
    }
  }

  async cacheCount(prefix?: string): Promise<number> {
    const rows =
      prefix === undefined
        ? await sql<{ n: number }>`select count(*) as n from llm_cache`.execute(this.db)
        : await sql<{ n: number }>`select count(*) as n from llm_cache where substr(response, 1, ${prefix.length}) = ${prefix}`.execute(this.db);
    return Number(rows.rows[0].n);
  }

  async *cacheRows(): AsyncGenerator<CacheRow[]> {
    let after = '';
    for (;;) {
      const rows = await sql<{ key: string; model: string; response: string; prompt_tokens: number; completion_tokens: number; cached_tokens: number; created_at: string }>`
        select * from llm_cache where key collate "C" > ${after} order by key collate "C" limit ${PAGE}`.execute(this.db);
      if (rows.rows.length === 0) return;
      yield rows.rows.map(cacheRowOf);
      if (rows.rows.length < PAGE) return;
      after = rows.rows[rows.rows.length - 1].key;
    }
  }

  // ---- leases -------------------------------------------------------------------------------

  /** The run leases this store holds: each a session of its own holding the run's advisory lock. */
  private readonly leases = new Map<number, RunLease>();

  private async leaseRow(runId: number): Promise<Lease | null> {
    const row = await this.db.selectFrom('run_leases').selectAll().where('run_id', '=', runId).executeTakeFirst();
    return row ? { runId: Number(row.run_id), host: row.host, pid: Number(row.pid), acquiredAt: row.acquired_at, heartbeatAt: row.heartbeat_at } : null;
  }

  /** The lease row while some session holds the run's lock (the lock decides; the row names the holder). */
  async currentLease(runId: number): Promise<Lease | null> {
    try {
      const held = await sql<{ held: boolean }>`select exists (select 1 from pg_locks where locktype = 'advisory' and granted
          and database = (select oid from pg_database where datname = current_database())
          and classid = ${RUN_LOCK_SPACE}::oid and objid = ${runLockKey(runId)}::oid and objsubid = 2) as held`.execute(this.db);
      if (!held.rows[0]?.held) return null;
      return (await this.leaseRow(runId)) ?? { runId, host: 'unknown', pid: 0, acquiredAt: '', heartbeatAt: null };
    } catch (error) {
      throw this.fail(error, `reading the lease of run ${runId}`);
    }
  }

  async claimRun(claimant: Lease): Promise<Lease | null> {
    if (this.leases.has(claimant.runId)) return null;
    const lease = new RunLease(this.url, claimant);
    try {
      if (!(await lease.take())) {
        await lease.end();
        // The holder writes its row just after taking the lock: an absent row is a holder starting.
        return (await this.leaseRow(claimant.runId)) ?? { runId: claimant.runId, host: 'unknown', pid: 0, acquiredAt: '', heartbeatAt: null };
      }
    } catch (error) {
      await lease.end();
      throw this.fail(error, `taking the lease of run ${claimant.runId}`);
    }
    this.leases.set(claimant.runId, lease);
    return null;
  }

  async releaseLease(runId: number): Promise<void> {
    const lease = this.leases.get(runId);
    if (!lease) return;
    this.leases.delete(runId);
    await lease.release();
  }
}

/**
 * The key space of run leases: PostgreSQL's two-key advisory locks (int4, int4) = (this, run id).
 * The cache's reservations use one-key (bigint) locks; the server keeps the two kinds apart (pg_locks
 * objsubid 1 and 2), so no request hash can ever take a run's lock.
 */
const RUN_LOCK_SPACE = 0x73696d52; // 'simR'

function runLockKey(runId: number): number {
  if (!Number.isInteger(runId) || runId < 1 || runId > 0x7fffffff) throw new DatabaseError(`run id ${runId} cannot be leased (ids up to 2^31 - 1)`);
  return runId;
}

/**
 * One run's lease on PostgreSQL: a connection of its own holding pg_try_advisory_lock(space, run).
 * The server frees the lock when that session ends, however the process ends. The session asks the
 * server for TCP keepalives every few seconds, so a holder whose host vanished is dropped within
 * about half a minute rather than after the system's default two hours, and is kept from idle
 * timeouts; every HEARTBEAT_MS it renews the row's heartbeat (shown in messages) over the same
 * session, which also notices a lost session and takes the lock again when it can.
 */
class RunLease {
  private client: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ended = false;
  /** A beat is under way (a reconnection may outlast the interval). */
  private beating = false;

  constructor(
    private readonly url: string,
    private readonly claimant: Lease,
  ) {}

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 10_000, keepAlive: true, application_name: `sim run ${this.claimant.runId} lease` });
    // A session lost later must not crash the process: its lock is gone, and the heartbeat says so.
    client.on('error', () => undefined);
    await client.connect();
    for (const setting of ['tcp_keepalives_idle = 10', 'tcp_keepalives_interval = 5', 'tcp_keepalives_count = 3', 'idle_session_timeout = 0', 'idle_in_transaction_session_timeout = 0']) {
      // Settings an older server does not know are left out.
      await client.query(`set ${setting}`).catch(() => undefined);
    }
    return client;
  }

  /** Takes the lock (false when another session holds it) and writes the row naming this process. */
  async take(): Promise<boolean> {
    const client = (this.client = await this.connect());
    const { runId, host, pid, acquiredAt } = this.claimant;
    const got = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [RUN_LOCK_SPACE, runLockKey(runId)]);
    if (!got.rows[0]?.ok) return false;
    await client.query(
      `insert into run_leases (run_id, host, pid, acquired_at, heartbeat_at) values ($1, $2, $3, $4, $5)
       on conflict (run_id) do update set host = excluded.host, pid = excluded.pid, acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at`,
      [runId, host, pid, acquiredAt, new Date().toISOString()],
    );
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.timer.unref();
    return true;
  }

  /** Renews the row's heartbeat; a lost session is replaced and the lock taken again, if no one else took it. */
  private async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    const { runId, host, pid } = this.claimant;
    try {
      if (!this.client) {
        const client = await this.connect();
        if (this.ended) return void (await client.end().catch(() => undefined));
        const got = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [RUN_LOCK_SPACE, runLockKey(runId)]);
        if (!got.rows[0]?.ok) {
          // Another process took the run over while this one had no session: stop holding it. The
          // streams' expected positions still keep the two from writing the same round.
          await client.end().catch(() => undefined);
          this.stop();
          return;
        }
        this.client = client;
      }
      await this.client.query('update run_leases set heartbeat_at = $1 where run_id = $2 and host = $3 and pid = $4', [new Date().toISOString(), runId, host, pid]);
    } catch {
      // The session is gone (a server restart, a network cut): connect again at the next beat.
      const lost = this.client;
      this.client = null;
      await lost?.end().catch(() => undefined);
    } finally {
      this.beating = false;
    }
  }

  private stop(): void {
    this.ended = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Deletes the row and ends the session, which frees the lock. */
  async release(): Promise<void> {
    this.stop();
    const client = this.client;
    this.client = null;
    if (!client) return;
    const { runId, host, pid } = this.claimant;
    try {
      await client.query('delete from run_leases where run_id = $1 and host = $2 and pid = $3', [runId, host, pid]);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async end(): Promise<void> {
    this.stop();
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}

function numericRow(r: StoredRow): StoredRow {
  return {
    position: Number(r.position),
    stream_id: r.stream_id,
    stream_position: Number(r.stream_position),
    round: Number(r.round),
    type: r.type,
    agent_id: r.agent_id === null ? null : Number(r.agent_id),
    payload: r.payload,
    schema_version: Number(r.schema_version),
    hash: r.hash,
  };
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
