import pg from 'pg';
import { describePostgresError } from '../events/postgres/database.js';

/**
 * The queue's jobs read straight from pg-boss's job table (the part of src/queue that `sim status`
 * needs), without starting pg-boss: starting it checks and maintains its schema, which a look at the
 * queue has no need of and which costs more than the look itself. The table's columns are those of
 * pg-boss 10 (queue.ts writes them too).
 */
/** A job in the queue, for `sim status`. */
export interface JobRow {
  id: string;
  runId: number;
  stream: string;
  state: 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';
  retryCount: number;
  startedOn: string | null;
  createdOn: string;
  completedOn: string | null;
  /**
   * What the worker wrote: its name and the stream's last complete round when it started (null: none)
   * while running; the reason of a failure.
   */
  output: { worker?: string; fromRound?: number | null; message?: string; permanent?: boolean; value?: { message?: string } } | null;
}

/** The queue's name and pg-boss's schema in the store's database. */
export const QUEUE_NAME = 'sim-stream';
export const QUEUE_SCHEMA = 'sim_queue';

export const JOBS_SQL = (schema: string) =>
  `select id, data, state, retry_count, started_on, created_on, completed_on, output from ${schema}.job where name = $1 order by created_on, id`;

export function jobRowOf(r: { id: string; data: { runId: unknown; stream: unknown }; state: JobRow['state']; retry_count: unknown; started_on: Date | null; created_on: Date; completed_on: Date | null; output: JobRow['output'] }): JobRow {
  return {
    id: r.id,
    runId: Number(r.data.runId),
    stream: String(r.data.stream),
    state: r.state,
    retryCount: Number(r.retry_count),
    startedOn: r.started_on ? new Date(r.started_on).toISOString() : null,
    createdOn: new Date(r.created_on).toISOString(),
    completedOn: r.completed_on ? new Date(r.completed_on).toISOString() : null,
    output: r.output ?? null,
  };
}

/**
 * Every job of the queue (none when nothing was ever submitted: the schema does not exist yet) and the
 * database server's clock, in one connection.
 */
export async function readJobs(url: string, display: string): Promise<{ jobs: JobRow[]; now: string }> {
  const client = new pg.Client({ connectionString: url, application_name: 'sim status', connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw describePostgresError(display, error, 'cannot connect');
  }
  try {
    const now = new Date((await client.query<{ now: Date }>('select now() as now').catch((error: unknown) => {
      throw describePostgresError(display, error, 'reading the job queue');
    })).rows[0].now).toISOString();
    try {
      const { rows } = await client.query(JOBS_SQL(QUEUE_SCHEMA), [QUEUE_NAME]);
      return { jobs: rows.map(jobRowOf), now };
    } catch (error) {
      // 42P01: undefined table (no `sim submit` yet).
      if ((error as { code?: string }).code === '42P01') return { jobs: [], now };
      throw describePostgresError(display, error, 'reading the job queue');
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}
