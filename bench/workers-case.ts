/**
 * LLM calls/s of 1 and of 3 `sim worker` processes against the fake OpenAI-compatible server with
 * 200 ms latency in a process of its own, 64 requests in flight per worker (`--concurrency 64`).
 * The work: 3 warmup-only LLM runs of U users (seeds 1-3, `sim submit`), submitted to a fresh database
 * each time (so nothing comes from the cache), all of them before the workers start, as a study is
 * swept and then worked (README "Many machines"). One worker executes them one after another, three
 * workers one each. Timed from the first job's start to the last run's end, as the workers print
 * them; calls are the server's count of requests. (Submitting while the workers waited, as this case
 * first did, started the three workers' jobs up to a submit and a 2 s poll apart: a stagger one worker
 * never pays, since its next job is queued before it asks.)
 *
 *   workers-case.ts SERVER_URL [USERS]   (SERVER_URL: a PostgreSQL server the case may create databases on)
 * Prints one JSON line.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freshDatabase } from './pg-server.js';

const serverUrl = process.argv[2];
const users = Number(process.argv[3] ?? 1000);
const RUNS = 3;
const IN_FLIGHT = 64;
const LATENCY_MS = 200;
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'sim.js');
// The workers' logs (<out>/logs/worker-NAME.log) go to a folder of the case's own, removed at exit.
const logsOut = mkdtempSync(join(tmpdir(), 'sim-bench-workers-'));
process.on('exit', () => rmSync(logsOut, { recursive: true, force: true }));


interface Phase {
  workers: number;
  seconds: number;
  calls: number;
  callsPerSecond: number;
  serverMaxInFlight: number;
  /** CPU time of the worker processes (user + system), seconds; null where /proc is missing. */
  workerCpuSeconds: number | null;
  /** CPU time of the test server while the workers ran, seconds. */
  serverCpuSeconds: number | null;
  /** CPU time of PostgreSQL's processes meanwhile (a server on this host only), seconds. */
  postgresCpuSeconds: number | null;
  load1: number;
}

/** A process's CPU time so far (user + system), from /proc; null where there is none. */
function cpuSeconds(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are the 14th and 15th fields of the line, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * CPU time so far of a PostgreSQL server on this host: its postmaster (with the backends it has
 * reaped) and its live children. Found through a connection's backend pid; null when that pid is
 * not a local postgres process (a server on another host).
 */
async function postgresCpu(url: string): Promise<(() => number | null) | null> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const backend = Number((await client.query('select pg_backend_pid() as pid')).rows[0].pid);
    const stat = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = (pid: number) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    let postmaster: number;
    try {
      if (!/^postgres/.test(comm(backend))) return null;
      postmaster = Number(stat(backend).split(') ')[1].split(' ')[1]);
      if (!/^postgres/.test(comm(postmaster))) return null;
    } catch {
      return null;
    }
    return () => {
      try {
        const f = stat(postmaster).split(') ')[1].split(' ');
        // utime, stime, cutime, cstime: the postmaster's own and its reaped children's, in ticks.
        let ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
        for (const entry of readdirSync('/proc')) {
          if (!/^\d+$/.test(entry)) continue;
          try {
            const g = stat(Number(entry)).split(') ')[1].split(' ');
            if (Number(g[1]) === postmaster) ticks += Number(g[11]) + Number(g[12]);
          } catch {
            // gone meanwhile: its time is in the postmaster's cutime once reaped
          }
        }
        return ticks / 100;
      } catch {
        return null;
      }
    };
  } finally {
    await client.end();
  }
}

async function fakeServer(): Promise<{ url: string; pid: number | undefined; stop: () => Promise<{ requests: number; maxInFlight: number }> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench', 'fake-server-process.ts'), String(LATENCY_MS)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const next = () => new Promise<string>((resolve) => lines.once('line', resolve));
  const url = await next();
  let stopped: Promise<{ requests: number; maxInFlight: number }> | null = null;
  return {
    url,
    pid: child.pid,
    stop: () =>
      (stopped ??= (async () => {
        const stats = next();
        child.kill('SIGTERM');
        return JSON.parse(await stats);
      })()),
  };
}

function worker(store: string, name: string, env: NodeJS.ProcessEnv, onLine: (line: string, at: number) => void, onEarlyExit: (error: Error) => void): { child: ChildProcessWithoutNullStreams; closed: Promise<unknown>; stopping: () => void } {
  const child = spawn(process.execPath, [bin, 'worker', '--store', store, '--name', name, '--concurrency', String(IN_FLIGHT), '--out', logsOut], { cwd: root, env });
  const lines: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    lines.push(line);
    onLine(line, performance.now());
  });
  let stopping = false;
  const closed = new Promise((resolve) =>
    child.on('close', (code, signal) => {
      if (!stopping) onEarlyExit(new Error(`worker ${name} exited (${signal ?? `code ${code}`}) before the runs finished:\n${lines.slice(-20).join('\n')}`));
      resolve(code);
    }),
  );
  return { child, closed, stopping: () => (stopping = true) };
}

async function phase(count: number): Promise<Phase> {
  const server = await fakeServer();
  const db = await freshDatabase(serverUrl, `workers${count}`);
  const env = { ...process.env, OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: server.url };
  const workers: Array<ReturnType<typeof worker>> = [];
  try {
    let ready = 0;
    let firstStart: number | null = null;
    let finished = 0;
    let lastEnd = 0;
    let allDone!: () => void;
    let failed!: (error: Error) => void;
    const done = new Promise<void>((resolve, reject) => {
      allDone = resolve;
      failed = reject;
    });
    let allReady!: () => void;
    const readyAll = new Promise<void>((resolve, reject) => {
      allReady = resolve;
      done.catch(reject);
    });
    for (let seed = 1; seed <= RUNS; seed += 1) {
      const submitted = spawnSync(process.execPath, [bin, 'submit', '--seed', String(seed), '--n-users', String(users), '--provider', 'openai', '--warmup-only', '--store', db.url], { cwd: root, env, encoding: 'utf8' });
      if (submitted.status !== 0) throw new Error(`sim submit failed: ${submitted.stderr}`);
    }
    const pgCpu = await postgresCpu(db.url);
    const pgBefore = pgCpu?.() ?? null;
    const serverBefore = cpuSeconds(server.pid);
    for (let i = 0; i < count; i += 1) {
      workers.push(
        worker(db.url, `bench-${count}-${i + 1}`, env, (line, at) => {
          if (/waiting for jobs/.test(line) && ++ready === count) allReady();
          if (/^run \d+ warmup: started/.test(line)) firstStart ??= at;
          if (/failed/.test(line)) process.stderr.write(`workers case: ${line}\n`);
          if (/; run \d+ finished$/.test(line)) {
            lastEnd = at;
            if (++finished === RUNS) allDone();
          }
        }, failed),
      );
    }
    await readyAll;
    await done;
    const seconds = (lastEnd - firstStart!) / 1000;
    const load1 = loadavg()[0];
    const cpus = workers.map((w) => cpuSeconds(w.child.pid));
    const workerCpuSeconds = cpus.every((c) => c !== null) ? cpus.reduce((a, b) => a! + b!, 0) : null;
    const serverAfter = cpuSeconds(server.pid);
    const serverCpuSeconds = serverBefore === null || serverAfter === null ? null : serverAfter - serverBefore;
    for (const w of workers) {
      w.stopping();
      w.child.kill('SIGTERM');
    }
    await Promise.all(workers.map((w) => w.closed));
    // The workers' backends have ended (their time is now in the postmaster's reaped children's).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const pgAfter = pgCpu?.() ?? null;
    const postgresCpuSeconds = pgBefore === null || pgAfter === null ? null : pgAfter - pgBefore;
    const stats = await server.stop();
    return { workers: count, seconds, calls: stats.requests, callsPerSecond: stats.requests / seconds, serverMaxInFlight: stats.maxInFlight, workerCpuSeconds, serverCpuSeconds, postgresCpuSeconds, load1 };
  } finally {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await db.drop().catch(() => undefined);
    await server.stop().catch(() => undefined);
  }
}

const perCall = (seconds: number | null, calls: number) => (seconds === null ? null : (1000 * seconds) / calls);

const one = await phase(1);
const three = await phase(3);
process.stdout.write(
  `${JSON.stringify({
    wallSeconds: one.seconds + three.seconds,
    users,
    runs: RUNS,
    inFlightPerWorker: IN_FLIGHT,
    oneWorkerCalls: one.calls,
    oneWorkerSeconds: one.seconds,
    oneWorkerCallsPerSecond: one.callsPerSecond,
    oneWorkerMaxInFlight: one.serverMaxInFlight,
    threeWorkersCalls: three.calls,
    threeWorkersSeconds: three.seconds,
    threeWorkersCallsPerSecond: three.callsPerSecond,
    threeWorkersMaxInFlight: three.serverMaxInFlight,
    // What the workers' own CPU allows: with C cores, at most C / (CPU per call) calls/s in all.
    workerCpuMsPerCall: one.workerCpuSeconds === null ? null : (1000 * one.workerCpuSeconds) / one.calls,
    threeWorkersCpuMsPerCall: three.workerCpuSeconds === null ? null : (1000 * three.workerCpuSeconds) / three.calls,
    // What the whole host spends per call besides the workers: the test server (a real provider's
    // work is not on the host) and PostgreSQL (null when the server is on another host).
    serverCpuMsPerCall: perCall(one.serverCpuSeconds, one.calls),
    threeWorkersServerCpuMsPerCall: perCall(three.serverCpuSeconds, three.calls),
    postgresCpuMsPerCall: perCall(one.postgresCpuSeconds, one.calls),
    threeWorkersPostgresCpuMsPerCall: perCall(three.postgresCpuSeconds, three.calls),
    speedup: three.callsPerSecond / one.callsPerSecond,
    loadAverage1m: Math.max(one.load1, three.load1),
  })}\n`,
);
