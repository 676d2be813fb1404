/**
 * Where a `sim worker`'s CPU per LLM call goes: WORKERS workers (default 1; dist/main.js run
 * directly, so node flags apply) execute RUNS warmup-only LLM runs of USERS users against the test
 * server with 200 ms latency in its own process, on a fresh database of SERVER_URL's PostgreSQL (on
 * this host), as bench row (a) does. Prints the calls/s and the CPU per call of the workers, of
 * PostgreSQL's processes and of the test server (from /proc), and the load average. Not part of
 * `npm run bench`; for profiling (docs/distributed.md):
 *
 *   node --import tsx bench/worker-profile.ts SERVER_URL [USERS] [RUNS] [WORKERS]
 *   PROF_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR"    flags for the worker (a CPU profile)
 *   PROF_SERVER_ARGS="--cpu-prof --cpu-prof-dir=DIR"  flags for the test server
 *   PROF_VERBOSE=1                                    the worker's log on stderr
 *   PROF_DIST=DIR                                     the workers' build (default dist/; A/B against another build)
 *   PROF_CONCURRENCY=N                                requests in flight per worker (default 64, as row (a))
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freshDatabase } from './pg-server.js';

const serverUrl = process.argv[2];
const users = Number(process.argv[3] ?? 1000);
const runs = Number(process.argv[4] ?? 1);
const workers = Number(process.argv[5] ?? 1);
const nodeArgs = (process.env.PROF_NODE_ARGS ?? '').split(' ').filter(Boolean);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'sim.js');
// The workers' logs (<out>/logs/worker-NAME.log) go to a folder of the case's own, removed at exit.
const logsOut = mkdtempSync(join(tmpdir(), 'sim-bench-workers-'));
process.on('exit', () => rmSync(logsOut, { recursive: true, force: true }));


/** User and system CPU time of a process so far, seconds. */
function cpuSplit(pid: number): { user: number; system: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { user: Number(f[11]) / 100, system: Number(f[12]) / 100 };
}
function cpu(pid: number, children = false): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0)) / 100;
}
function pgCpu(postmaster: number): number {
  let total = cpu(postmaster, true);
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ');
      if (Number(f[1]) === postmaster) total += (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

const srv = spawn(process.execPath, [...(process.env.PROF_SERVER_ARGS ?? '').split(' ').filter(Boolean), '--import', 'tsx', join(root, 'bench', 'fake-server-process.ts'), '200'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
const srvLines = createInterface({ input: srv.stdout! });
const next = () => new Promise<string>((r) => srvLines.once('line', r));
const url = await next();
const db = await freshDatabase(serverUrl, 'prof');
const c = new pg.Client({ connectionString: serverUrl });
await c.connect();
const bpid = (await c.query('select pg_backend_pid() as p')).rows[0].p;
const postmaster = Number(readFileSync(`/proc/${bpid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
await c.end();
const env = { ...process.env, OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: url };
const ws = Array.from({ length: workers }, (_, i) => spawn(process.execPath, [...nodeArgs, join(process.env.PROF_DIST ?? join(root, 'dist'), 'main.js'), 'worker', '--store', db.url, '--name', `prof-${i + 1}`, '--concurrency', process.env.PROF_CONCURRENCY ?? '64', '--out', logsOut], { cwd: root, env }));
const workerCpu = () => ws.reduce((sum, w) => sum + cpu(w.pid!), 0);
const workerSystem = () => ws.reduce((sum, w) => sum + cpuSplit(w.pid!).system, 0);
let finished = 0;
let ready = 0;
let t0 = 0, t1 = 0, pg0 = 0, s0 = 0, w0 = 0, ws0 = 0, lastCpu = 0;
const perRun: number[] = [];
await new Promise<void>((resolve) => {
  for (const w of ws) {
    createInterface({ input: w.stderr }).on('line', (line) => {
      if (process.env.PROF_VERBOSE) process.stderr.write(line + '\n');
      if (/waiting for jobs/.test(line) && ++ready === workers) {
        for (let seed = 1; seed <= runs; seed++) {
          const r = spawnSync(process.execPath, [bin, 'submit', '--seed', String(seed), '--n-users', String(users), '--provider', 'openai', '--warmup-only', '--store', db.url], { cwd: root, env, encoding: 'utf8' });
          if (r.status !== 0) throw new Error(r.stderr);
        }
      }
      if (/^run \d+ warmup: started/.test(line) && !t0) { t0 = performance.now(); pg0 = pgCpu(postmaster); s0 = cpu(srv.pid!); w0 = workerCpu(); ws0 = workerSystem(); lastCpu = w0; }
      if (/; run \d+ finished$/.test(line)) {
        // The CPU of each run (one worker: its first run pays the JIT's warm-up, the later ones not).
        const now = workerCpu();
        perRun.push(Number((now - lastCpu).toFixed(2)));
        lastCpu = now;
        if (++finished === runs) { t1 = performance.now(); resolve(); }
      }
    });
  }
});
const wc = workerCpu() - w0;
const wsys = workerSystem() - ws0;
const load1 = loadavg()[0];
for (const w of ws) w.kill('SIGTERM');
await Promise.all(ws.map((w) => new Promise((r) => w.on('close', r))));
await new Promise((r) => setTimeout(r, 500));
const pc = pgCpu(postmaster) - pg0;
const sc = cpu(srv.pid!) - s0;
const stats = next();
srv.kill('SIGTERM');
const { requests } = JSON.parse(await stats);
await db.drop();
const s = (t1 - t0) / 1000;
console.log(JSON.stringify({ workers, requests, seconds: s, callsPerSecond: requests / s, workerMsPerCall: (1000 * wc) / requests, workerSystemMsPerCall: (1000 * wsys) / requests, pgMsPerCall: (1000 * pc) / requests, serverMsPerCall: (1000 * sc) / requests, workerCpuSecondsPerRun: perRun, load1 }));
