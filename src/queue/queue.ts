import pg from 'pg';
import PgBoss from 'pg-boss';
import { maskPassword } from '../events/open-store.js';
import { guardPool, reportingLostConnections } from '../events/postgres/database.js';
import { JOBS_SQL, jobRowOf, QUEUE_NAME, QUEUE_SCHEMA, type JobRow } from './job-table.js';

/**
 * The job queue of distributed runs: pg-boss (docs/distributed.md says why) in its own schema of
 * the store's PostgreSQL database. A job is (run, stream): "continue this stream from its last
 * complete round for a bounded slice". This file is the only one that speaks to pg-boss; like the
 * storage backends it may hold SQL (the status query and the permanent failure read and mark
 * pg-boss's job table, which pg-boss's API does not list).
 */

export { QUEUE_NAME, QUEUE_SCHEMA, type JobRow };

/** What a job carries. */
export interface StreamJob {
  runId: number;
  /** `warmup` or a condition's stream name. */
  stream: string;
  /** The takeover bound of this run's jobs, seconds (see takeoverTimes). */
  takeover: number;
}

/** The timings that follow from the takeover bound T: expiry, maintenance interval, slice length, polling. */
export interface TakeoverTimes {
  /** A job active longer than this is failed by pg-boss's maintenance and retried by another worker. */
  expireSeconds: number;
  /** How often (across all workers) pg-boss looks for expired jobs. */
  maintenanceSeconds: number;
  /** How long a job runs before it re-enqueues itself (at a round boundary). */
  sliceMs: number;
  /** How often an idle worker asks for a job. */
  pollMs: number;
}

export const DEFAULT_TAKEOVER_SECONDS = 60;

/**
 * A dead worker's job is taken over within T seconds: it expires after 0.6 T, the next maintenance
 * pass (every 0.15 T) moves it back to the queue as a retry that starts after 2-4 s, and an idle
 * worker polls every 0.05 T (at most 2 s): 0.8 T + 4 s <= T for T >= 20.
 * A live worker ends each slice after T/4 of work (at a round boundary), far before its expiry.
 */
export function takeoverTimes(takeover: number): TakeoverTimes {
  return {
    expireSeconds: Math.max(1, Math.floor(takeover * 0.6)),
    maintenanceSeconds: Math.max(1, Math.floor(takeover * 0.15)),
    sliceMs: Math.max(1000, Math.floor(takeover * 250)),
    pollMs: Math.min(2000, Math.max(200, Math.floor(takeover * 50))),
  };
}

/** Retries (an expired job, a transient failure): 10, with exponential backoff from 2 s. */
const RETRY = { retryLimit: 10, retryDelay: 2, retryBackoff: true } as const;

export interface FetchedJob {
  id: string;
  data: StreamJob;
}

/** Opens the queue in the store's database (creating pg-boss's schema and the queue the first time). */
export class JobQueue {
  private constructor(
    private readonly pool: pg.Pool,
    private readonly boss: PgBoss,
  ) {}

  static async open(url: string, options: { maintenanceSeconds?: number; supervise?: boolean } = {}): Promise<JobQueue> {
    // A lost connection (the server restarted) must not crash the worker; the next query reports it.
    // ... and a lost connection is a StoreUnavailableError naming the store, whichever query it hits.
    const pool = reportingLostConnections(guardPool(new pg.Pool({ connectionString: url, max: 4 })), maskPassword(url));
    const boss = new PgBoss({
      db: { executeSql: (text: string, values: unknown[]) => pool.query(text, values) },
      schema: QUEUE_SCHEMA,
      supervise: options.supervise ?? false,
      schedule: false,
      maintenanceIntervalSeconds: options.maintenanceSeconds ?? 120,
    });
    boss.on('error', () => undefined);
    try {
      await boss.start();
      if (!(await boss.getQueue(QUEUE_NAME))) await boss.createQueue(QUEUE_NAME, { name: QUEUE_NAME, policy: 'standard' }).catch(async (error: unknown) => {
        // Two workers creating it at once: the other one won.
        if (!(await boss.getQueue(QUEUE_NAME))) throw error;
      });
    } catch (error) {
      await boss.stop({ graceful: false, close: false }).catch(() => undefined);
      await pool.end().catch(() => undefined);
      throw error;
    }
    return new JobQueue(pool, boss);
  }

  /** Records a sweep's runs (a sweep is named; its runs are seed x setting). */
  async addToSweep(name: string, rows: ReadonlyArray<{ runId: number; seed: number; setting: string }>): Promise<void> {
    await this.ensureSweeps();
    for (const r of rows) {
      await this.pool.query(`insert into ${QUEUE_SCHEMA}.sweeps (name, run_id, seed, setting) values ($1, $2, $3, $4) on conflict do nothing`, [name, r.runId, r.seed, r.setting]);
    }
  }

  /** Every sweep's runs, by sweep name then run id. */
  async sweeps(): Promise<Array<{ name: string; runId: number; seed: number; setting: string }>> {
    await this.ensureSweeps();
    const { rows } = await this.pool.query(`select name, run_id, seed, setting from ${QUEUE_SCHEMA}.sweeps order by name, run_id`);
    return rows.map((r) => ({ name: r.name, runId: Number(r.run_id), seed: Number(r.seed), setting: r.setting }));
  }

  private async ensureSweeps(): Promise<void> {
    await this.pool.query(`create table if not exists ${QUEUE_SCHEMA}.sweeps (name text not null, run_id integer not null, seed integer not null, setting text not null, primary key (name, run_id))`);
  }

  async close(): Promise<void> {
    await this.boss.stop({ graceful: false, close: false, wait: true }).catch(() => undefined);
    await this.pool.end();
  }

  private sendOptions(job: StreamJob): PgBoss.SendOptions {
    return { ...RETRY, expireInSeconds: takeoverTimes(job.takeover).expireSeconds };
  }

  /** Enqueues jobs (in one transaction). */
  async enqueue(jobs: readonly StreamJob[]): Promise<void> {
    await this.transaction(async (db) => {
      for (const job of jobs) await this.boss.send(QUEUE_NAME, job, { ...this.sendOptions(job), db });
      return true;
    });
  }

  /** Takes the next job, or null; marks it with the worker's name. */
  async fetch(worker: string): Promise<FetchedJob | null> {
    const [job] = await this.boss.fetch<StreamJob>(QUEUE_NAME, { batchSize: 1 });
    if (!job) return null;
    await this.pool.query(`update ${QUEUE_SCHEMA}.job set output = $2::jsonb where name = $3 and id = $1 and state = 'active'`, [job.id, JSON.stringify({ worker }), QUEUE_NAME]);
    return { id: job.id, data: job.data };
  }

  /** Notes on a job this worker runs where its stream was when it started (for rounds/s in `sim status`). */
  async noteStart(id: string, fromRound: number | null): Promise<void> {
    await this.pool.query(`update ${QUEUE_SCHEMA}.job set output = coalesce(output, '{}'::jsonb) || $2::jsonb where name = $3 and id = $1 and state = 'active'`, [id, JSON.stringify({ fromRound }), QUEUE_NAME]);
  }

  /** The database server's clock (jobs' start times are in it, whichever machine asks). */
  async serverNow(): Promise<string> {
    const { rows } = await this.pool.query('select now() as now');
    return new Date(rows[0].now).toISOString();
  }

  /**
   * Completes a job and enqueues its successors in one transaction, but only while the job is still
   * this worker's (active): a job that expired meanwhile belongs to whoever took it over, and then
   * nothing is written. Returns whether it was.
   */
  async completeAndEnqueue(id: string, next: readonly StreamJob[]): Promise<boolean> {
    return this.transaction(async (db) => {
      // pg-boss returns how many jobs it completed (its types say void).
      const done = (await this.boss.complete(QUEUE_NAME, id, null as unknown as object, { db })) as unknown as { affected: number };
      if (done.affected !== 1) return false;
      for (const job of next) await this.boss.send(QUEUE_NAME, job, { ...this.sendOptions(job), db });
      return true;
    });
  }

  /** A failure that may go away (a server down): retried with backoff, up to the retry limit. */
  async failTransient(id: string, message: string): Promise<void> {
    await this.boss.fail(QUEUE_NAME, id, { message, permanent: false });
  }

  /** A failure that will not go away by itself (bad config, model not found, key refused): failed now, never retried. */
  async failPermanent(id: string, message: string): Promise<void> {
    await this.pool.query(`update ${QUEUE_SCHEMA}.job set retry_limit = retry_count where name = $2 and id = $1 and state = 'active'`, [id, QUEUE_NAME]);
    await this.boss.fail(QUEUE_NAME, id, { message, permanent: true });
  }

  /** Every job of the queue (live and completed, not yet archived), oldest first. */
  async jobs(): Promise<JobRow[]> {
    const { rows } = await this.pool.query(JOBS_SQL(QUEUE_SCHEMA), [QUEUE_NAME]);
    return rows.map(jobRowOf);
  }

  private async transaction(work: (db: PgBoss.Db) => Promise<boolean>): Promise<boolean> {
    const client = await this.pool.connect();
    const db: PgBoss.Db = { executeSql: (text: string, values: unknown[]) => client.query(text, values) };
    try {
      await client.query('begin');
      const keep = await work(db);
      await client.query(keep ? 'commit' : 'rollback');
      return keep;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}
