/**
 * `sim status` and `sim runs` on a PostgreSQL store of about 5 million events (issue 27: both under
 * 0.5 s). argv[2] is an empty database. The store is made realistic quickly: one real offline run of
 * 300 users (warmup + 5 conditions, about 53,000 events) is recorded with `sim run`, then copied in SQL
 * under 7 new run ids, each stream's events repeated 15 times end to end (stream positions go on, the
 * stored head is the last copy's last event, so the head check passes as on a real store), about
 * 5.3 million events in 8 runs. One copy is left interrupted part-way (two conditions missing, one cut
 * after its round 12, status "running" with no process behind it) and two jobs sit in the queue (one
 * taken by a worker, one waiting), so both commands show every kind of run. Then each command is
 * started as a user starts it (`node bin/sim.js status --store URL`), 7 times, and `sim --help` and
 * Node alone as many times under the same load; prints one JSON line with the median and fastest wall
 * time and the mean CPU of each.
 *
 *   node --import tsx bench/status-case.ts URL [build|time]   (default: both)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { JobQueue } from '../src/queue/queue.js';

const url = process.argv[2];
const step = process.argv[3] ?? 'both';
const bin = fileURLToPath(new URL('../bin/sim.js', import.meta.url));
const env = { ...process.env, OPENAI_API_KEY: '', SIM_STORE: '' };
const COPIES = 7;
const REPEAT = 15;
const STARTS = 7;

async function build(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'sim-bench-status-'));
  try {
    execFileSync(process.execPath, [bin, 'run', '--n-users', '300', '--provider', 'offline', '--store', url, '--out', out], { env, stdio: 'ignore' });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const source = Number((await db.query('select max(id) as id from runs')).rows[0].id);
    for (let copy = 1; copy <= COPIES; copy += 1) {
      const run = source + copy;
      await db.query('begin');
      await db.query(`insert into runs (id, created_at, seed, config, code_version, status) select $2, created_at, seed, config, code_version, 'finished' from runs where id = $1`, [source, run]);
      await db.query(`insert into streams (stream_id, run_id, name, last_position, last_hash) select 'run/' || $2::int || '/' || name, $2, name, last_position * $3, last_hash from streams where run_id = $1`, [source, run, REPEAT]);
      await db.query(
        `insert into events (stream_id, stream_position, round, type, agent_id, payload, schema_version, hash)
         select 'run/' || $2::int || '/' || s.name, g * s.last_position + e.stream_position, e.round, e.type, e.agent_id, e.payload, e.schema_version, e.hash
         from streams s join events e on e.stream_id = s.stream_id cross join generate_series(0, $3::int - 1) g
         where s.run_id = $1 order by g, e.position`,
        [source, run, REPEAT],
      );
      await db.query('commit');
    }
    await db.query(`select setval(pg_get_serial_sequence('runs', 'id'), (select max(id) from runs))`);
    // The last copy: interrupted in round 12 of a condition, two conditions never started.
    const cut = source + COPIES;
    const prefix = `run/${cut}/`;
    for (const name of ['experiment_info_message', 'experiment_soc_message']) {
      await db.query('delete from events where stream_id = $1', [prefix + name]);
      await db.query('delete from streams where stream_id = $1', [prefix + name]);
    }
    const stream = `${prefix}treatment_soc_message`;
    const last = (await db.query(`select stream_position, hash from events where stream_id = $1 and type = 'RoundCompleted' and round = 12 order by stream_position desc limit 1`, [stream])).rows[0];
    await db.query('delete from events where stream_id = $1 and stream_position > $2', [stream, last.stream_position]);
    await db.query('update streams set last_position = $2, last_hash = $3 where stream_id = $1', [stream, last.stream_position, last.hash]);
    await db.query(`update runs set status = 'running' where id = $1`, [cut]);
    // As autovacuum leaves a store that has stood for a while.
    await db.query('vacuum analyze');
  } finally {
    await db.end();
  }
  // Two jobs of the interrupted run in the queue: one taken by a worker (it stays active: no worker runs), one waiting.
  const queue = await JobQueue.open(url);
  try {
    const run = Number((await queueRun()).id);
    await queue.enqueue([{ runId: run, stream: 'treatment_soc_message', takeover: 600 }]);
    await queue.fetch('bench-worker');
    await queue.enqueue([{ runId: run, stream: 'experiment_info_message', takeover: 600 }]);
  } finally {
    await queue.close();
  }
}

async function queueRun(): Promise<{ id: number }> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    return (await db.query(`select id from runs where status = 'running' order by id desc limit 1`)).rows[0];
  } finally {
    await db.end();
  }
}

/** CPU seconds (user + system) of this process's finished children, from /proc (Linux; null elsewhere). */
function childrenCpuSeconds(): number | null {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return null;
  }
}

/** `node <args>` started n times: median and fastest wall time, mean CPU, and the lines the last start printed. */
function times(args: string[], n: number): { median: number; min: number; cpu: number | null; lines: number } {
  const seconds: number[] = [];
  let lines = 0;
  const cpuBefore = childrenCpuSeconds();
  for (let i = 0; i < n; i += 1) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
    seconds.push((performance.now() - t0) / 1000);
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    lines = r.stdout.trimEnd().split('\n').length;
  }
  const cpuAfter = childrenCpuSeconds();
  seconds.sort((a, b) => a - b);
  return { median: seconds[Math.floor(n / 2)], min: seconds[0], cpu: cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / n, lines };
}

async function facts(): Promise<{ events: number; runs: number }> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const events = Number((await db.query('select sum(last_position) as n from streams')).rows[0].n);
    const runs = Number((await db.query('select count(*) as n from runs')).rows[0].n);
    return { events, runs };
  } finally {
    await db.end();
  }
}

const t0 = performance.now();
if (step === 'build' || step === 'both') await build();
const buildSeconds = (performance.now() - t0) / 1000;
if (step === 'time' || step === 'both') {
  // One start first, so a queue schema created on first use is not in the figures.
  const sim = (command: string) => [bin, command, '--store', url];
  times(sim('status'), 1);
  const status = times(sim('status'), STARTS);
  const runs = times(sim('runs'), STARTS);
  // The same load's start-up alone, to read the figures against: `sim --help` and Node itself.
  const help = times([bin, '--help'], STARTS);
  const bare = times(['-e', '0'], STARTS);
  const load = loadavg()[0];
  process.stdout.write(
    `${JSON.stringify({
      wallSeconds: status.median + runs.median,
      ...(await facts()),
      buildSeconds,
      statusSeconds: status.median,
      statusMinSeconds: status.min,
      statusCpuSeconds: status.cpu,
      statusLines: status.lines,
      runsSeconds: runs.median,
      runsMinSeconds: runs.min,
      runsCpuSeconds: runs.cpu,
      runsLines: runs.lines,
      helpSeconds: help.median,
      helpCpuSeconds: help.cpu,
      bareNodeSeconds: bare.median,
      targetSeconds: 0.5,
      starts: STARTS,
      loadAverage1m: load,
    })}\n`,
  );
}
