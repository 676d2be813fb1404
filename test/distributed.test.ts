import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, runSim, runSimAsync, SIM_BIN } from './helpers.js';
import { startFakeServer } from './support/fake-openai-server.js';
import { writeUsersDir } from './support/users-files.js';
import pgDriver from 'pg';
import { executeJob, resolveConfig, submitConfig, type WorkerEvent } from '../src/api/index.js';
import { JOB_THREAD_APPLICATION, runSliceInThread } from '../src/api/job-thread.js';
import { openStoreFor } from '../src/api/store.js';
import { JobQueue } from '../src/queue/queue.js';
import { freshPostgresDatabase, postgresForTests, postgresRequired } from './support/store-backends.js';

/**
 * Runs spread over `sim worker` processes sharing one PostgreSQL store (docs/distributed.md). Needs a
 * server (SIM_TEST_PG_URL); skipped visibly without one, failed under CI (SIM_REQUIRE_POSTGRES=1).
 * Heavy: it starts several worker processes.
 */
const scratch = mkdtempSync(join(tmpdir(), 'sim-distributed-'));
const pg = postgresForTests();
const skip = pg.url || postgresRequired ? null : pg.reason;
if (skip) console.warn(`distributed tests skipped: ${skip}`);
const drops: Array<() => Promise<void>> = [];
const children: ChildProcessWithoutNullStreams[] = [];
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const drop of drops) await drop().catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
});

async function database(): Promise<string> {
  if (!pg.url) throw new Error(`SIM_REQUIRE_POSTGRES=1 but ${pg.reason}`);
  const db = await freshPostgresDatabase(pg.url);
  drops.push(db.drop);
  return db.url;
}

/** Every file under a folder, by relative path, with its bytes. */
function tree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.set(relative(dir, path), readFileSync(path));
    }
  };
  walk(dir);
  return out;
}

interface Worker {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  /** Resolves when the worker has printed a line matching `pattern`. */
  waitFor: (pattern: RegExp) => Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startWorker(store: string, name: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Worker {
  // Each worker's log goes to the scratch folder (<out>/logs/worker-NAME.log), not the project's.
  const child = spawn(process.execPath, [SIM_BIN, 'worker', '--store', store, '--name', name, '--takeover', '20', '--out', join(scratch, 'workers'), ...extra], { cwd: PROJECT_ROOT, env: { ...process.env, OPENAI_API_KEY: '', ...env } });
  children.push(child);
  let text = '';
  const waiters: Array<{ pattern: RegExp; resolve: (m: RegExpExecArray) => void }> = [];
  const check = () => {
    for (const w of [...waiters]) {
      const m = w.pattern.exec(text);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stderr.on('data', (c: Buffer) => {
    text += c.toString();
    check();
  });
  child.stdout.on('data', (c: Buffer) => (text += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => text,
    waitFor: (pattern) =>
      new Promise((resolve) => {
        waiters.push({ pattern, resolve });
        check();
      }),
    exited,
  };
}

interface StatusRow {
  runId: number;
  status: string;
  streams: Array<{ stream: string; state: string; worker: string | null; round: number | null; attempts: number; reason: string | null }>;
}

function status(store: string): StatusRow[] {
  const r = runSim(['status', '--json', '--store', store]);
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as StatusRow[];
}

/** Like status, without blocking this process (the LLM test serves the workers from it). */
async function statusAsync(store: string): Promise<StatusRow[]> {
  const r = await runSimAsync(['status', '--json', '--store', store]);
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as StatusRow[];
}

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The experiment of the job-thread tests: two conditions, so a worker with --jobs 2 runs both at once. */
const THREADED = ['--n-users', '300', '--seed', '5', '--conditions', 'control,experiment_soc_message'];
let threadedExpected: string | null = null;
/** The fingerprint of THREADED under `sim run` on SQLite (computed once, shared by the tests that need it). */
function threadedFingerprint(): string {
  if (threadedExpected) return threadedExpected;
  const out = join(scratch, 'threaded-sqlite');
  const alone = runSim(['run', ...THREADED, '--out', out], { timeoutMs: 600_000 });
  if (alone.status !== 0) throw new Error(alone.stderr);
  threadedExpected = (JSON.parse(runSim(['runs', '--json', '--out', out]).stdout) as Array<{ fingerprint: string }>)[0].fingerprint;
  return threadedExpected;
}

/** The lines where a worker started each condition of run 1 (in order), with the thread it names, and where the first condition job ended. */
function conditionJobs(output: string): { starts: Array<{ line: number; stream: string; thread: number | null }>; firstEnd: number } {
  const lines = output.split('\n');
  const starts = lines.flatMap((l, line) => {
    const m = /^run 1 (control|experiment_soc_message): started(?: after round -?\d+)?(?: in thread (\d+))?$/.exec(l);
    return m ? [{ line, stream: m[1], thread: m[2] ? Number(m[2]) : null }] : [];
  });
  const end = lines.findIndex((l) => /^run 1 (control|experiment_soc_message): (done|slice ended|released|job dropped|failed)/.test(l));
  return { starts, firstEnd: end === -1 ? lines.length : end };
}

/** Connections to a database that name themselves as job threads (pg_stat_activity). */
async function jobThreadConnections(url: string): Promise<number> {
  const client = new pgDriver.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = $1', [JOB_THREAD_APPLICATION]);
    return rows[0].n as number;
  } finally {
    await client.end();
  }
}

describe.skipIf(skip !== null)(`sim submit and sim worker on PostgreSQL${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('a 1,000-user, 5-condition run executed by 3 workers, one killed with kill -9 mid-condition, has the fingerprint and byte-identical CSVs of `sim run` on SQLite', async () => {
    const store = await database();
    const sqliteOut = join(scratch, 'sqlite');
    const alone = runSim(['run', '--n-users', '1000', '--seed', '4', '--out', sqliteOut], { timeoutMs: 600_000 });
    expect(alone.status, alone.stderr).toBe(0);
    const expected = (JSON.parse(runSim(['runs', '--json', '--out', sqliteOut]).stdout) as Array<{ fingerprint: string }>)[0].fingerprint;

    const submitted = runSim(['submit', '--n-users', '1000', '--seed', '4', '--store', store, '--takeover', '20']);
    expect(submitted.status, submitted.stderr).toBe(0);
    expect(submitted.stdout.trim()).toBe('1');
    // Nothing runs without a worker: the warmup waits in the queue.
    expect(status(store)[0].streams.map((s) => s.state)).toEqual(['queued', 'waiting', 'waiting', 'waiting', 'waiting', 'waiting']);

    const victim = startWorker(store, 'victim');
    // The victim takes the warmup; the others join once it is under way.
    await victim.waitFor(/run 1 warmup: started/);
    const others = [startWorker(store, 'w2'), startWorker(store, 'w3')];
    // Killed in the middle of a condition: after it started one, before it printed its end.
    const started = await victim.waitFor(/run 1 (\w+_message|control): started/);
    const stream = started[1];
    await new Promise((r) => setTimeout(r, 1500));
    expect(victim.output()).not.toMatch(new RegExp(`run 1 ${stream}: (done|slice ended)`));
    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    const killedAt = Date.now();

    // Another worker takes the dead worker's job over and the run finishes.
    await until('the run to finish', () => status(store)[0].status === 'finished', 600_000);
    const final = status(store)[0];
    expect(final.streams.every((s) => s.state === 'done')).toBe(true);
    const takenOver = others.some((w) => new RegExp(`run 1 ${stream}: started`).test(w.output()));
    expect(takenOver, others.map((w) => w.output()).join('\n---\n')).toBe(true);
    // Bounded takeover: within --takeover 20 s (plus the condition's remaining rounds).
    expect(Date.now() - killedAt).toBeLessThan(300_000);

    for (const w of others) w.child.kill('SIGTERM');
    for (const w of others) expect((await w.exited).code, w.output()).toBe(0);

    const runs = JSON.parse(runSim(['runs', '--json', '--store', store]).stdout) as Array<{ fingerprint: string; status: string }>;
    expect(runs[0].fingerprint).toBe(expected);
    expect(runs[0].status).toBe('finished');

    expect(runSim(['export', 'csv', '--out', sqliteOut, '--to', join(scratch, 'csv-sqlite')]).status).toBe(0);
    const exported = runSim(['export', 'csv', '--store', store, '--out', join(scratch, 'pg'), '--to', join(scratch, 'csv-pg')]);
    expect(exported.status, exported.stderr).toBe(0);
    const left = tree(join(scratch, 'csv-sqlite'));
    const right = tree(join(scratch, 'csv-pg'));
    expect([...right.keys()].sort()).toEqual([...left.keys()].sort());
    expect(left.size).toBeGreaterThan(10);
    for (const [file, bytes] of left) expect(right.get(file)!.equals(bytes), file).toBe(true);
  }, 900_000);

  it('sim sweep --seeds 1-3 --grid messages.likely_voter_threshold=3,4 makes 6 runs, 2 workers finish them, sim report --sweep pools each setting\'s seeds', async () => {
    const store = await database();
    const swept = runSim(['sweep', '--seeds', '1-3', '--grid', 'messages.likely_voter_threshold=3,4', '--n-users', '100', '--conditions', 'control,experiment_soc_message', '--name', 'thresholds', '--store', store, '--takeover', '20']);
    expect(swept.status, swept.stderr).toBe(0);
    const listed = runSim(['sweep', '--list', '--store', store]);
    expect(listed.stdout).toMatch(/thresholds/);
    expect(listed.stdout).toMatch(/1,2,3,4,5,6/);
    const workers = [startWorker(store, 'a', ['--jobs', '2']), startWorker(store, 'b', ['--jobs', '2'])];
    await until('the 6 runs to finish', () => {
      const runs = status(store);
      return runs.length === 6 && runs.every((r) => r.status === 'finished');
    }, 600_000);
    for (const w of workers) w.child.kill('SIGTERM');
    for (const w of workers) expect((await w.exited).code, w.output()).toBe(0);
    // Both workers took part.
    for (const w of workers) expect(w.output()).toMatch(/: done/);
    // A run executed slice by slice, two jobs at a time, has the fingerprint of `sim run` (threshold 3 is the default).
    const sqliteOut = join(scratch, 'sweep-sqlite');
    expect(runSim(['run', '--n-users', '100', '--seed', '1', '--conditions', 'control,experiment_soc_message', '--out', sqliteOut]).status).toBe(0);
    const alone = (JSON.parse(runSim(['runs', '--json', '--out', sqliteOut]).stdout) as Array<{ fingerprint: string }>)[0].fingerprint;
    const sweptRuns = JSON.parse(runSim(['runs', '--json', '--store', store]).stdout) as Array<{ id: number; fingerprint: string }>;
    expect(sweptRuns.find((r) => r.id === 1)!.fingerprint).toBe(alone);

    const out = join(scratch, 'sweep');
    const report = runSim(['report', '--sweep', 'thresholds', '--store', store, '--out', out], { timeoutMs: 600_000 });
    expect(report.status, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/messages.likely_voter_threshold=3: runs 1, 2, 3 pooled/);
    expect(report.stdout).toMatch(/messages.likely_voter_threshold=4: runs 4, 5, 6 pooled/);
    for (const setting of ['messages.likely_voter_threshold=3', 'messages.likely_voter_threshold=4']) {
      const json = JSON.parse(readFileSync(join(out, 'report', 'thresholds', setting, 'report.json'), 'utf8')) as { pooled?: unknown };
      expect(json.pooled, setting).toBeTruthy();
    }
  }, 900_000);

  it('an LLM run executed by 2 workers sends each distinct request once (as many as one process); a model the server does not know fails the job at once, without retries', async () => {
    const KEY = 'sk-test-SECRET-distributed';
    const server = await startFakeServer({ apiKey: KEY });
    try {
      const users = writeUsersDir(join(scratch, 'llm-users'), 80);
      const env = { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url };
      const experiment = ['--provider', 'openai', '--users-dir', users, '--n-users', '60', '--seed', '4', '--conditions', 'control,treatment_soc_message,experiment_soc_message', '--num-contents', '5'];
      const alone = await runSimAsync(['run', ...experiment, '--out', join(scratch, 'llm-alone')], { env });
      expect(alone.status, alone.stderr).toBe(0);
      const single = server.requests;
      expect(single).toBeGreaterThan(100);
      const expected = (JSON.parse(runSim(['runs', '--json', '--out', join(scratch, 'llm-alone')]).stdout) as Array<{ fingerprint: string }>)[0].fingerprint;

      const store = await database();
      const submitted = runSim(['submit', ...experiment, '--store', store, '--takeover', '60'], { env });
      expect(submitted.status, submitted.stderr).toBe(0);
      const workers = [startWorker(store, 'llm-a', [], env), startWorker(store, 'llm-b', [], env)];
      await until('the LLM run to finish', async () => (await statusAsync(store))[0].status === 'finished', 600_000);
      const distributed = server.requests - single;
      // The shared cache answers what another worker paid for, and a request another worker is asking
      // right now is waited for, not asked again (conditions forked from one warmup share their
      // untreated users' early requests; docs/distributed.md): not one extra request.
      const extra = distributed - single;
      console.info(`distributed LLM run: ${distributed} requests vs ${single} in one process (${extra} extra, ${((100 * extra) / single).toFixed(2)}%)`);
      expect(extra).toBe(0);
      expect((JSON.parse(runSim(['runs', '--json', '--store', store]).stdout) as Array<{ fingerprint: string }>)[0].fingerprint).toBe(expected);

      // The workers' logs hold every round of the run once between them, as the single process's run
      // log has them, with the calls of their jobs; never the key.
      const logs = ['llm-a', 'llm-b'].map((name) => readFileSync(join(scratch, 'workers', 'logs', `worker-${name}.log`), 'utf8'));
      const rounds = (text: string, prefix = '') =>
        text
          .split('\n')
          .map((line) => new RegExp(`^\\S+ ${prefix}(stream=\\S+ stage=(?:warmup|main|election) round=-?\\d+ agents=\\d+) `).exec(line)?.[1])
          .filter((r): r is string => r !== undefined)
          .sort();
      const aloneRounds = rounds(readFileSync(join(scratch, 'llm-alone', 'logs', 'run-1.log'), 'utf8'));
      expect(aloneRounds.length).toBeGreaterThan(40);
      expect(logs.flatMap((text) => rounds(text, 'run=1 ')).sort()).toEqual(aloneRounds);
      for (const [i, text] of logs.entries()) {
        expect(text.split('\n')[0]).toMatch(new RegExp(`^\\S+ worker=llm-${'ab'[i]} started jobs_at_a_time=1$`));
        expect(text).toMatch(/ calls=\d+ cache_hits=\d+ /);
        expect(text).not.toContain(KEY);
      }
      expect(logs.join('')).toMatch(/run=1 stream=warmup job=done enqueued=control,treatment_soc_message,experiment_soc_message/);

      // A model the server does not know: failed, not retried.
      server.setOptions({ apiKey: KEY, models: ['no-such-model'] });
      const bad = runSim(['submit', ...experiment, '--seed', '5', '--store', store, '--takeover', '20'], { env });
      expect(bad.status, bad.stderr).toBe(0);
      await until('the job to fail', async () => (await statusAsync(store))[1]?.streams[0].state === 'failed', 300_000);
      await new Promise((r) => setTimeout(r, 8000));
      const failed = (await statusAsync(store))[1];
      expect(failed.status).toBe('failed');
      expect(failed.streams[0]).toMatchObject({ state: 'failed', attempts: 1 });
      expect(failed.streams[0].reason).toMatch(/not found \(HTTP 404\)/);
      for (const w of workers) w.child.kill('SIGTERM');
      for (const w of workers) expect((await w.exited).code, w.output()).toBe(0);
      expect(workers.map((w) => w.output()).join('\n')).toMatch(/failed \(not retried\)/);
    } finally {
      await server.close();
    }
  }, 900_000);

  it('a worker running two LLM jobs at once (--jobs 2) keeps one limit per endpoint: the server never has more than --concurrency requests in flight', async () => {
    const KEY = 'sk-test-SECRET-shared-limit';
    // Latency keeps requests in flight long enough for the two jobs' requests to meet.
    const server = await startFakeServer({ apiKey: KEY, latencyMs: 40 });
    try {
      const users = writeUsersDir(join(scratch, 'shared-limit-users'), 80);
      const env = { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url };
      const store = await database();
      for (const seed of ['6', '7']) {
        const submitted = runSim(['submit', '--provider', 'openai', '--users-dir', users, '--n-users', '60', '--seed', seed, '--warmup-only', '--num-contents', '5', '--store', store, '--takeover', '60'], { env });
        expect(submitted.status, submitted.stderr).toBe(0);
      }
      const worker = startWorker(store, 'shared', ['--jobs', '2', '--concurrency', '3'], env);
      await until('both runs to finish', async () => (await statusAsync(store)).every((r) => r.status === 'finished'), 600_000);
      worker.child.kill('SIGTERM');
      expect((await worker.exited).code, worker.output()).toBe(0);
      // Both jobs ran at the same time: each started before either ended.
      const lines = worker.output().split('\n');
      const firstEnd = lines.findIndex((l) => /warmup: (done|slice ended)/.test(l));
      expect(lines.slice(0, firstEnd).filter((l) => /run [12] warmup: started/.test(l))).toHaveLength(2);
      expect(server.requests).toBeGreaterThan(100);
      // One limit of 3 for the process, reached and never exceeded (with a limit per job it would reach 6).
      expect(server.maxInFlight).toBe(3);
    } finally {
      await server.close();
    }
  }, 600_000);

  it('sim status shows a running job\'s worker, last complete round and rounds/s (text and JSON); --watch refreshes until stopped', async () => {
    const store = await database();
    // Five conditions one after another on one worker: long enough to catch it running.
    const submitted = runSim(['submit', '--n-users', '1000', '--seed', '8', '--store', store, '--takeover', '60']);
    expect(submitted.status, submitted.stderr).toBe(0);
    const worker = startWorker(store, 'status-w');
    await worker.waitFor(/run 1 warmup: started/);
    // A running stream some rounds into its job: its rate is the rounds since the job's start over the time since.
    let seen: { row: StatusRow['streams'][number] & { since: string; fromRound: number | null; roundsPerSecond: number | null }; before: number; after: number } | null = null;
    await until('a running job with a rate', async () => {
      const before = Date.now();
      const runs = (await statusAsync(store)) as unknown as Array<{ streams: Array<StatusRow['streams'][number] & { since: string; fromRound: number | null; roundsPerSecond: number | null }> }>;
      const after = Date.now();
      const row = runs[0].streams.find((s) => s.state === 'running' && s.roundsPerSecond !== null && s.round !== null && s.round >= (s.fromRound ?? -1000) + 2);
      if (row) seen = { row, before, after };
      return row !== undefined;
    }, 300_000);
    const { row, before, after } = seen!;
    expect(row.worker).toBe('status-w');
    // The stream's first round minus one when the job started before any round: -16 (warmup from -15), 0 (control from 1).
    const base = row.fromRound ?? (row.stream === 'warmup' ? -16 : 0);
    const rounds = row.round! - base;
    const since = Date.parse(row.since);
    // The status read the database's clock between `before` and `after` (the same machine's clock),
    // and gives no rate before a second has passed. The job may be a slice that started after
    // `before` (slices re-enqueue themselves), so the time it ran is at least max(1 s, before - since).
    expect(since).toBeLessThanOrEqual(after);
    expect(row.roundsPerSecond!).toBeLessThanOrEqual((1.05 * rounds) / Math.max(1, (before - since) / 1000));
    expect(row.roundsPerSecond!).toBeGreaterThanOrEqual((0.95 * rounds) / ((after - since) / 1000));

    // The table: one line per run, within the 80 columns of a pipe; the running run's line names its jobs and worker.
    let text = '';
    await until('a running row in the table', async () => {
      const r = await runSimAsync(['status', '--store', store]);
      expect(r.status, r.stderr).toBe(0);
      text = r.stdout;
      return /^ *1 +running +\d\/6 +1 running\b.*status-w/m.test(text);
    }, 300_000);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
    // --run 1: a line per stream; the running one has its worker, since, round, rate (blank until the
    // job has run a second and reported where it started) and its one attempt.
    let detail = '';
    await until('a running stream in the detail', async () => {
      const r = await runSimAsync(['status', '--run', '1', '--store', store]);
      expect(r.status, r.stderr).toBe(0);
      detail = r.stdout;
      return / running /.test(detail);
    }, 300_000);
    expect(detail).toMatch(/^run 1 +running +seed 8 /);
    expect(detail).toMatch(/^\S+ +running +status-w +\d+s ago +(-?\d+|-)( +\d+\.\d+)? +1$/m);

    // --watch 1: clears the screen and prints the table again every second until interrupted.
    const watch = spawn(process.execPath, [SIM_BIN, 'status', '--watch', '1', '--store', store], { cwd: PROJECT_ROOT });
    children.push(watch as ChildProcessWithoutNullStreams);
    let out = '';
    watch.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const closed = new Promise<number | null>((resolve) => watch.on('close', (code) => resolve(code)));
    await until('two refreshes', () => out.split('\x1b[2J').length - 1 >= 2 && out.split('rounds/s').length - 1 >= 2, 120_000);
    watch.kill('SIGINT');
    await closed;
    expect(out.startsWith('\x1b[2J\x1b[H')).toBe(true);

    worker.child.kill('SIGTERM');
    expect((await worker.exited).code, worker.output()).toBe(0);
  }, 600_000);

  it('a transient failure (the LLM server unreachable past --max-outage) is retried with growing backoff, shown by sim status, and the run finishes once the server is back', async () => {
    const KEY = 'sk-test-SECRET-transient';
    // A port with nothing listening on it yet: the server starts there later.
    const probe = await startFakeServer({ apiKey: KEY });
    const port = Number(new URL(probe.url).port);
    await probe.close();
    const users = writeUsersDir(join(scratch, 'transient-users'), 40);
    const env = { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: probe.url };
    const store = await database();
    const submitted = runSim(['submit', '--provider', 'openai', '--users-dir', users, '--n-users', '30', '--seed', '3', '--warmup-only', '--num-contents', '3', '--store', store, '--takeover', '20'], { env });
    expect(submitted.status, submitted.stderr).toBe(0);
    const worker = startWorker(store, 'transient', ['--max-outage', '1s'], env);
    const lines: Array<{ at: number; line: string }> = [];
    let partial = '';
    worker.child.stderr.on('data', (c: Buffer) => {
      const parts = (partial + c.toString()).split('\n');
      partial = parts.pop()!;
      for (const line of parts) lines.push({ at: Date.now(), line });
    });
    let server: Awaited<ReturnType<typeof startFakeServer>> | null = null;
    try {
      await worker.waitFor(/(failed, will be retried.*\n[\s\S]*){3}/);
      // While it waits for its next attempt, status shows the stream queued with its attempts and why.
      let waiting: StatusRow['streams'][number] | null = null;
      await until('the stream queued for a retry', async () => (waiting = (await statusAsync(store))[0].streams[0]).state === 'queued', 120_000);
      expect(waiting!.attempts).toBeGreaterThanOrEqual(3);
      expect(waiting!.reason).toMatch(/the LLM server has not answered for 1s/);
      const failures = lines.filter((l) => /run 1 warmup: failed, will be retried: the LLM server has not answered for 1s/.test(l.line)).map((l) => l.at);
      const starts = lines.filter((l) => /run 1 warmup: started/.test(l.line)).map((l) => l.at);
      expect(failures.length).toBeGreaterThanOrEqual(3);
      // pg-boss's backoff from 2 s: the retry after the first failure waits 2-4 s, after the second 4-8 s
      // (plus up to a poll of 1 s and a loaded machine's delays: upper bounds are loose, lower bounds firm).
      const gap1 = (starts[1] - failures[0]) / 1000;
      const gap2 = (starts[2] - failures[1]) / 1000;
      expect(gap1).toBeGreaterThanOrEqual(1.9);
      expect(gap2).toBeGreaterThanOrEqual(3.9);
      expect(gap1).toBeLessThan(20);
      expect(gap2).toBeLessThan(30);
      server = await startFakeServer({ apiKey: KEY, port });
      await until('the run to finish once the server is back', async () => (await statusAsync(store))[0].status === 'finished', 300_000);
      expect(server.requests).toBeGreaterThan(30);
      worker.child.kill('SIGTERM');
      expect((await worker.exited).code, worker.output()).toBe(0);
    } finally {
      await server?.close();
    }
  }, 600_000);

  it('sim submit --from-warmup enqueues only the conditions, forked from a warmup the workers recorded; fingerprint as `sim run --from-warmup` on SQLite', async () => {
    const sqliteOut = join(scratch, 'from-warmup-sqlite');
    const experiment = ['--n-users', '200', '--seed', '5'];
    expect(runSim(['run', ...experiment, '--warmup-only', '--out', sqliteOut]).status).toBe(0);
    const forked = runSim(['run', ...experiment, '--from-warmup', '1', '--conditions', 'control,treatment_soc_message', '--out', sqliteOut], { timeoutMs: 600_000 });
    expect(forked.status, forked.stderr).toBe(0);
    const expected = (JSON.parse(runSim(['runs', '--json', '--out', sqliteOut]).stdout) as Array<{ id: number; fingerprint: string }>).find((r) => r.id === 2)!.fingerprint;

    const store = await database();
    // No finished warmup yet: refused, nothing recorded.
    const early = runSim(['submit', ...experiment, '--from-warmup', '1', '--store', store]);
    expect(early.status).not.toBe(0);
    expect(early.stderr).toMatch(/run 1 was not found|no finished warmup|no run/i);
    expect(runSim(['submit', ...experiment, '--warmup-only', '--store', store, '--takeover', '20']).stdout.trim()).toBe('1');
    const worker = startWorker(store, 'fork');
    await until('the warmup to finish', () => status(store)[0].status === 'finished', 300_000);
    const submitted = runSim(['submit', ...experiment, '--from-warmup', '1', '--conditions', 'control,treatment_soc_message', '--store', store, '--takeover', '20']);
    expect(submitted.status, submitted.stderr).toBe(0);
    expect(submitted.stdout.trim()).toBe('2');
    // The forked run has no warmup stream of its own: its two conditions are its jobs.
    expect(status(store)[1].streams.map((s) => s.stream)).toEqual(['control', 'treatment_soc_message']);
    await until('the forked run to finish', () => status(store)[1].status === 'finished', 300_000);
    worker.child.kill('SIGTERM');
    expect((await worker.exited).code, worker.output()).toBe(0);
    expect(worker.output()).not.toMatch(/run 2 warmup/);
    const runs = JSON.parse(runSim(['runs', '--json', '--store', store]).stdout) as Array<{ id: number; fingerprint: string }>;
    expect(runs.find((r) => r.id === 2)!.fingerprint).toBe(expected);
  }, 600_000);

  it('two workers executing the same job: the second appender is refused, drops the job and says so; the winner enqueues the conditions once', async () => {
    const url = await database();
    const config = resolveConfig({ out: scratch, nUsers: 40, seed: 2, provider: 'offline', conditions: 'control,treatment_soc_message' });
    const stores = [await openStoreFor({ out: scratch, store: url }), await openStoreFor({ out: scratch, store: url })];
    const queue = await JobQueue.open(url);
    try {
      // A takeover bound long enough that the warmup is one slice.
      const runId = await submitConfig(stores[0], config, 400);
      const job = await queue.fetch('first');
      expect(job?.data).toEqual({ runId, stream: 'warmup', takeover: 400 });
      const events: WorkerEvent[][] = [[], []];
      const never = new AbortController().signal;
      await Promise.all(stores.map((store, i) => executeJob(store, queue, job!, {}, never, (e) => events[i].push(e))));
      const ends = events.map((list) => list.find((e) => e.kind === 'done' || e.kind === 'dropped')!);
      expect(ends.map((e) => e.kind).sort()).toEqual(['done', 'dropped']);
      const dropped = ends.find((e) => e.kind === 'dropped') as Extract<WorkerEvent, { kind: 'dropped' }>;
      expect(dropped.reason).toMatch(/expected to append after position \d+, but it is at \d+/);
      const done = ends.find((e) => e.kind === 'done') as Extract<WorkerEvent, { kind: 'done' }>;
      expect(done.next).toEqual(['control', 'treatment_soc_message']);
      // The conditions were enqueued once; the warmup job is completed.
      const jobs = await queue.jobs();
      expect(jobs.filter((j) => j.state === 'created').map((j) => j.stream).sort()).toEqual(['control', 'treatment_soc_message']);
      expect(jobs.filter((j) => j.stream === 'warmup').map((j) => j.state)).toEqual(['completed']);
    } finally {
      await queue.close();
      for (const s of stores) await s.close();
    }
  }, 300_000);
  it('a worker with --jobs 2 runs two offline jobs at once, each in a worker thread of its own, and the run has the fingerprint of `sim run` on SQLite', async () => {
    const expected = threadedFingerprint();
    const store = await database();
    const submitted = runSim(['submit', ...THREADED, '--store', store, '--takeover', '60']);
    expect(submitted.status, submitted.stderr).toBe(0);
    const worker = startWorker(store, 'threads', ['--jobs', '2']);
    await until('the run to finish', () => status(store)[0].status === 'finished', 600_000);
    worker.child.kill('SIGTERM');
    expect((await worker.exited).code, worker.output()).toBe(0);
    const output = worker.output();
    // Every offline job ran in a worker thread (the main thread names none).
    const started = output.split('\n').filter((l) => /: started/.test(l));
    expect(started.length).toBeGreaterThanOrEqual(3);
    for (const line of started) expect(line, output).toMatch(/ in thread \d+$/);
    // The two conditions ran at the same time, in two threads: each started before either ended.
    const { starts, firstEnd } = conditionJobs(output);
    const before = starts.filter((s) => s.line < firstEnd);
    expect(before.map((s) => s.stream).sort(), output).toEqual(['control', 'experiment_soc_message']);
    expect(before[0].thread).not.toBe(before[1].thread);
    const runs = JSON.parse(runSim(['runs', '--json', '--store', store]).stdout) as Array<{ fingerprint: string; status: string }>;
    expect(runs[0].fingerprint).toBe(expected);
  }, 900_000);

  it('SIGTERM to a worker running offline jobs in threads: they stop at a round boundary and are released, the worker exits promptly, and another worker finishes them with the fingerprint of `sim run`', async () => {
    const expected = threadedFingerprint();
    const store = await database();
    // A long takeover bound (jobs expire after 72 s): only a release lets the next worker start them at once.
    const submitted = runSim(['submit', ...THREADED, '--store', store, '--takeover', '120']);
    expect(submitted.status, submitted.stderr).toBe(0);
    const first = startWorker(store, 'stopped', ['--jobs', '2']);
    // Both conditions under way in threads (the warmup's end wakes the idle slot, so they start together).
    await first.waitFor(/run 1 control: started.* in thread \d+/);
    await first.waitFor(/run 1 experiment_soc_message: started.* in thread \d+/);
    expect(conditionJobs(first.output()).firstEnd).toBe(first.output().split('\n').length);
    first.child.kill('SIGTERM');
    const signalled = Date.now();
    const exit = await Promise.race([first.exited, new Promise<null>((r) => setTimeout(() => r(null), 60_000))]);
    const exitMs = Date.now() - signalled;
    expect(exit, `the worker did not exit within 60 s of SIGTERM:\n${first.output()}`).not.toBeNull();
    expect(exit!.code, first.output()).toBe(0);
    console.info(`sim worker --jobs 2 exited ${exitMs} ms after SIGTERM with two offline jobs in threads`);
    // Both jobs were handed back at a round boundary, and wait in the queue for the next worker.
    expect(first.output()).toMatch(/run 1 control: released before round \d+/);
    expect(first.output()).toMatch(/run 1 experiment_soc_message: released before round \d+/);
    const streams = status(store)[0].streams;
    expect(streams.filter((s) => s.stream !== 'warmup').map((s) => s.state)).toEqual(['queued', 'queued']);
    expect(await jobThreadConnections(store)).toBe(0);

    const second = startWorker(store, 'finisher', ['--jobs', '2']);
    const released = Date.now();
    // (Released before or after their first round: "started" or "started after round N".)
    await second.waitFor(/run 1 control: started/);
    await second.waitFor(/run 1 experiment_soc_message: started/);
    // Taken at once (polling every 2 s), not after the jobs' 72-s expiry.
    expect(Date.now() - released).toBeLessThan(60_000);
    await until('the run to finish', () => status(store)[0].status === 'finished', 600_000);
    second.child.kill('SIGTERM');
    expect((await second.exited).code, second.output()).toBe(0);
    const runs = JSON.parse(runSim(['runs', '--json', '--store', store]).stdout) as Array<{ fingerprint: string }>;
    expect(runs[0].fingerprint).toBe(expected);
  }, 900_000);

  it('a job thread has store connections of its own, closed before its job is settled; its failures are settled as on the main thread (permanent: failed at once; a lost store: retried)', async () => {
    const url = await database();
    const config = resolveConfig({ out: scratch, nUsers: 40, seed: 2, provider: 'offline', conditions: 'control' });
    const store = await openStoreFor({ out: scratch, store: url });
    const queue = await JobQueue.open(url);
    let sampling = true;
    let most = 0;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, await jobThreadConnections(url));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      const runId = await submitConfig(store, config, 400);
      await queue.enqueue([{ runId, stream: 'no_such_condition', takeover: 400 }]);
      const never = new AbortController().signal;
      const run = async (expectStream: string, signal = never) => {
        const job = await queue.fetch('threaded');
        expect(job?.data.stream).toBe(expectStream);
        const events: WorkerEvent[] = [];
        await executeJob(store, queue, job!, { threads: true }, signal, (e) => events.push(e));
        // Settled: the thread's connections are gone (closed before it reported; the server may take a moment to drop a backend).
        await until('the job thread\'s connections to close', async () => (await jobThreadConnections(url)) === 0, 5000);
        return { job: job!, events };
      };
      const warmup = await run('warmup');
      const startedIn = warmup.events.find((e) => e.kind === 'job') as Extract<WorkerEvent, { kind: 'job' }>;
      expect(startedIn.thread).toBeGreaterThan(0);
      expect(warmup.events.at(-1)).toMatchObject({ kind: 'done', next: ['control'] });
      expect(most).toBeGreaterThanOrEqual(1);

      // A stream the run does not have: a permanent failure, failed at once and never retried (as on the main thread).
      const bad = await run('no_such_condition');
      expect(bad.events.at(-1)).toMatchObject({ kind: 'failed', permanent: true });
      expect((bad.events.at(-1) as Extract<WorkerEvent, { kind: 'failed' }>).reason).toMatch(/run 1 has no condition stream "no_such_condition"/);
      expect((await queue.jobs()).find((j) => j.id === bad.job.id)).toMatchObject({ state: 'failed', retryCount: 0 });
      await store.setRunStatus(runId, 'running');

      // A stop already asked: the thread stops before its first round and the job is released.
      const stopped = new AbortController();
      stopped.abort();
      const released = await run('control', stopped.signal);
      expect(released.events.at(-1)).toMatchObject({ kind: 'released', stream: 'control' });
      expect((await queue.jobs()).filter((j) => j.stream === 'control').map((j) => j.state)).toEqual(['completed', 'created']);
      const control = await run('control');
      expect(control.events.at(-1)).toMatchObject({ kind: 'done', runFinished: true });

      // A thread that cannot reach its store: a transient failure (retried), as a lost connection is on the main thread.
      const broken = new URL(url);
      broken.password = 'wrong-password';
      const lost = await runSliceInThread({ location: broken.toString() }, config, { runId, stream: 'control', takeover: 400 }, {}, { stop: never, sliceMs: 60_000, started: () => undefined, onProgress: () => undefined });
      expect(lost).toMatchObject({ kind: 'failed', permanent: false });
      expect((lost as { message: string }).message).not.toContain('wrong-password');
    } finally {
      sampling = false;
      await sampler;
      await queue.close();
      await store.close();
    }
  }, 300_000);
});

