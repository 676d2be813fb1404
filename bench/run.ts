/**
 * `npm run bench`: measures the engine and writes bench/results.json. A script, not a test: timings
 * on a shared 2-core machine are evidence to read, not assertions to gate on.
 *
 *   npm run bench             1,000 and 20,000 agents, offline, default experiment
 *   npm run bench -- --large  also 100,000 agents, the 1,000,000-agent warmup + one condition,
 *                             and `sim replay` of a 20,000-agent run (the default replays 2,000)
 *   npm run bench -- --only=startup   just the start-up rows (`sim --help`, `sim runs`), in seconds;
 *                             likewise --only=engine|distributed|llm|replay|population|status
 *
 * The distributed rows use SIM_BENCH_PG_URL's server (creating databases on it), else start a
 * throwaway PostgreSQL cluster (bench/pg-server.ts), else are skipped with the reason printed. The
 * status row does the same, and uses SIM_TEST_PG_URL's server when only that is set.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchPostgres, freshDatabase } from './pg-server.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const large = process.argv.includes('--large');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);

interface Row {
  section: string;
  case: string;
  wallSeconds: number;
  [key: string]: string | number | null;
}
const rows: Row[] = [];

/** Runs a bench case in its own process so peak RSS belongs to that case alone. */
function child(script: string, args: string[], nodeFlags: string[] = []): Record<string, number | string> {
  const out = execFileSync(process.execPath, [...nodeFlags, '--import', 'tsx', join(root, 'bench', script), ...args], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const last = out.trim().split('\n').pop()!;
  return JSON.parse(last);
}

function engineCase(users: number, conditions: string, workers: number, label: string, storeUrl?: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'sim-bench-'));
  try {
    // Node's default heap limit (about 4 GB) is too small from a few hundred thousand agents.
    const heap = users > 200_000 ? ['--max-old-space-size=20000'] : [];
    const r = child('engine-case.ts', [String(users), conditions, String(workers), dir, ...(storeUrl ? [storeUrl] : [])], heap);
    rows.push({ section: 'engine (offline)', case: label, ...r } as Row);
    print(rows[rows.length - 1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function print(row: Row): void {
  process.stderr.write(`${row.section} | ${row.case} | ${JSON.stringify(row)}\n`);
}

const all = 'control,treatment_info_message,treatment_soc_message,experiment_info_message,experiment_soc_message';
if (!only || only === 'engine') {
  engineCase(1_000, all, 1, '1,000 agents x 5 conditions, 1 thread');
  engineCase(20_000, all, 1, '20,000 agents x 5 conditions, 1 thread');
  engineCase(20_000, all, 2, '20,000 agents x 5 conditions, 2 threads');
  // The PostgreSQL backend on the same case: SIM_BENCH_PG_URL names an empty database on a server.
  const pgUrl = process.env.SIM_BENCH_PG_URL;
  if (pgUrl) engineCase(20_000, all, 1, '20,000 agents x 5 conditions, 1 thread, PostgreSQL store', pgUrl);
  if (large) {
    // Engine time per agent-turn on one thread at 100,000 (flat in the population?): warmup + one condition.
    engineCase(100_000, 'control', 1, '100,000 agents, warmup + control, 1 thread');
    engineCase(100_000, all, 2, '100,000 agents x 5 conditions, 2 threads');
    engineCase(1_000_000, 'control', 1, '1,000,000 agents, warmup + control, 1 thread');
  }
}

// Distributed runs (docs/distributed.md), on SIM_BENCH_PG_URL's server or a throwaway cluster:
// (a) calls/s of 3 `sim worker` processes against 1, 64 LLM requests in flight each, 200 ms server;
// (b) how long a job waits for another worker after its worker dies (kill -9) or is stopped (SIGTERM).
if (!only || only === 'distributed') {
  const server = await benchPostgres();
  if ('skip' in server) {
    process.stderr.write(`distributed rows skipped: ${server.skip}\n`);
  } else {
    try {
      const a = child('workers-case.ts', [server.url, process.env.SIM_BENCH_WORKERS_USERS ?? '1000']);
      rows.push({ section: 'distributed (PostgreSQL queue)', case: '3 `sim worker` vs 1, LLM at 200 ms, 64 in flight each', ...a } as Row);
      print(rows[rows.length - 1]);
      const db = await freshDatabase(server.url, 'takeover');
      try {
        const b = child('takeover-case.ts', [db.url]);
        rows.push({ section: 'distributed (PostgreSQL queue)', case: 'a job continued by another worker, default --takeover 60', ...b } as Row);
        print(rows[rows.length - 1]);
      } finally {
        await db.drop().catch(() => undefined);
      }
    } finally {
      server.stop();
    }
  }
}

// `sim status` and `sim runs` on a PostgreSQL store of about 5 million events (issue 27: each under 0.5 s).
if (!only || only === 'status') {
  const testUrl = process.env.SIM_TEST_PG_URL?.trim();
  const server = !process.env.SIM_BENCH_PG_URL?.trim() && testUrl ? { url: testUrl, stop: () => undefined } : await benchPostgres();
  if ('skip' in server) {
    process.stderr.write(`status row skipped: ${server.skip}\n`);
  } else {
    try {
      const db = await freshDatabase(server.url, 'status');
      try {
        const r = child('status-case.ts', [db.url]);
        rows.push({ section: 'listing (PostgreSQL store)', case: '`sim status` and `sim runs`, about 5 M events in 8 runs', ...r } as Row);
        print(rows[rows.length - 1]);
      } finally {
        await db.drop().catch(() => undefined);
      }
    } finally {
      server.stop();
    }
  }
}

function llmCase(args: string[], label: string): void {
  const r = child('llm-case.ts', args);
  rows.push({ section: args[0] === 'replay' ? 'cache and replay' : 'LLM pipeline (200 ms latency)', case: label, ...r } as Row);
  print(rows[rows.length - 1]);
}

if (!only || only === 'llm') {
  llmCase(['pipeline', '8', '400'], 'concurrency 8: 400 calls');
  llmCase(['pipeline', '64', '3200'], 'concurrency 64: 3,200 calls');
  llmCase(['pipeline', '256', '12800'], 'concurrency 256: 12,800 calls');
  llmCase(['engine', '64', '2000'], 'warmup of 2,000 agents, concurrency 64');
}
if (!only || only === 'replay') {
  // Recording a 20,000-agent LLM run takes about 19 minutes against a zero-latency server, so the
  // default bench replays 2,000 agents (threads and one thread) and --large the 20,000 (threads only).
  llmCase(['replay', '2000', all], '`sim replay` of 2,000 agents x 5 conditions');
  if (large) llmCase(['replay', '20000', all, '1'], '`sim replay` of 20,000 agents x 5 conditions');
}
if (!only || only === 'population') {
  for (const n of large ? [20_000, 1_000_000] : [20_000]) {
    const r = child('population-case.ts', [String(n)]);
    rows.push({ section: 'population generation', case: `${n.toLocaleString('en-US')} users`, ...r } as Row);
    print(rows[rows.length - 1]);
  }
}

/**
 * CPU seconds (user + system) of this process's finished children, from /proc (Linux; null
 * elsewhere): the CPU of the starts below, which a loaded machine distorts less than their wall time.
 */
function childrenCpuSeconds(): number | null {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ');
    // After the command name: state is field 3, cutime and cstime fields 16 and 17 (clock ticks, 100 a second).
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return null;
  }
}

/** Wall time of `node bin/sim.js <args>`, as a user starts it: the median and the fastest of `times` starts, and their mean CPU. */
function startupTimes(args: string[], times: number): { median: number; min: number; cpu: number | null } {
  const seconds: number[] = [];
  const cpuBefore = childrenCpuSeconds();
  for (let i = 0; i < times; i += 1) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    seconds.push((performance.now() - t0) / 1000);
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${r.stderr}`);
  }
  const cpuAfter = childrenCpuSeconds();
  seconds.sort((a, b) => a - b);
  return { median: seconds[Math.floor(times / 2)], min: seconds[0], cpu: cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / times };
}

if (!only || only === 'startup') {
  // The build is brought up to date first, so the rows time starting sim, not building it.
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--if-stale'], { cwd: root, stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'sim-bench-'));
  try {
    // A small store: one finished run of 100 users, warmup and control.
    execFileSync(process.execPath, [join(root, 'bin', 'sim.js'), 'run', '--n-users', '100', '--conditions', 'control', '--provider', 'offline', '--out', dir], { cwd: root, stdio: 'ignore' });
    const times = 15;
    const bare = startupTimes(['-e', '0'], times);
    for (const [label, args] of [
      ['`sim --help`', ['--help']],
      ['`sim runs` on a store of one 100-user run', ['runs', '--out', dir]],
    ] as const) {
      const t = startupTimes([join(root, 'bin', 'sim.js'), ...args], times);
      rows.push({ section: 'start-up', case: label, wallSeconds: t.median, minSeconds: t.min, cpuSeconds: t.cpu, starts: times, bareNodeSeconds: bare.median, bareNodeMinSeconds: bare.min, bareNodeCpuSeconds: bare.cpu, loadAverage1m: loadavg()[0] });
      print(rows[rows.length - 1]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version };
mkdirSync(join(root, 'bench'), { recursive: true });
writeFileSync(join(root, 'bench', 'results.json'), `${JSON.stringify({ date: new Date().toISOString(), machine, rows }, null, 2)}\n`);

const headers = ['section', 'case', 'wall s', 'figure'];
const ms = (v: unknown): string => (v === null || v === undefined ? 'n/a' : Number(v).toFixed(1));
const figure = (r: Row): string => {
  if (r.section.startsWith('engine')) return `${r.turns} agent-turns, ${((r.wallSeconds * 1e6) / Number(r.turns)).toFixed(1)} µs/turn, ${r.events} events, peak RSS ${r.peakRssMb} MB, db ${r.dbMb} MB`;
  if (r.section.startsWith('LLM') && r.engineShare !== undefined) return `${r.calls} calls, ${Number(r.callsPerSecond).toFixed(0)} calls/s, engine ${(100 * Number(r.engineShare)).toFixed(1)}% of wall time`;
  if (r.section.startsWith('LLM')) return `${Number(r.callsPerSecond).toFixed(0)} calls/s of ideal ${r.ideal} (${(100 * Number(r.share)).toFixed(0)}%), client CPU ${Number(r.cpuUsPerCall).toFixed(0)} µs/call`;
  if (r.section === 'start-up') {
    const cpu = (v: string | number | null) => (v === null ? '' : `, CPU ${Number(v).toFixed(2)} s a start`);
    return `median of ${r.starts} starts (fastest ${Number(r.minSeconds).toFixed(2)} s${cpu(r.cpuSeconds)}); Node itself (\`node -e 0\`): median ${Number(r.bareNodeSeconds).toFixed(2)} s, fastest ${Number(r.bareNodeMinSeconds).toFixed(2)} s${cpu(r.bareNodeCpuSeconds)}; load average ${Number(r.loadAverage1m).toFixed(1)}`;
  }
  if (r.section.startsWith('distributed') && r.speedup !== undefined) return `1 worker ${Number(r.oneWorkerCallsPerSecond).toFixed(0)} calls/s (${r.oneWorkerCalls} calls, at most ${r.oneWorkerMaxInFlight} in flight), 3 workers ${Number(r.threeWorkersCallsPerSecond).toFixed(0)} calls/s (${r.threeWorkersCalls} calls, at most ${r.threeWorkersMaxInFlight} in flight): ${Number(r.speedup).toFixed(2)}x; worker CPU ${Number(r.workerCpuMsPerCall).toFixed(1)} / ${Number(r.threeWorkersCpuMsPerCall).toFixed(1)} ms per call, test server ${ms(r.serverCpuMsPerCall)} / ${ms(r.threeWorkersServerCpuMsPerCall)}, PostgreSQL ${ms(r.postgresCpuMsPerCall)} / ${ms(r.threeWorkersPostgresCpuMsPerCall)}; load average ${Number(r.loadAverage1m).toFixed(1)}`;
  if (r.section.startsWith('distributed')) return `taken over ${Number(r.afterKill9Seconds).toFixed(1)} s after kill -9 (bound ${r.takeoverBoundSeconds} s), ${Number(r.afterSigtermSeconds).toFixed(1)} s after SIGTERM`;
  if (r.section.startsWith('listing')) {
    const verdict = (v: number) => (v < Number(r.targetSeconds) ? 'under' : 'OVER');
    const cpu = (v: string | number | null) => (v === null ? '' : `, CPU ${Number(v).toFixed(2)} s`);
    return `${Number(r.events).toLocaleString('en-US')} events, ${r.runs} runs: \`sim status\` ${Number(r.statusSeconds).toFixed(2)} s (fastest ${Number(r.statusMinSeconds).toFixed(2)}${cpu(r.statusCpuSeconds)}, ${r.statusLines} lines), \`sim runs\` ${Number(r.runsSeconds).toFixed(2)} s (fastest ${Number(r.runsMinSeconds).toFixed(2)}${cpu(r.runsCpuSeconds)}, ${r.runsLines} lines), medians of ${r.starts} starts: ${verdict(Number(r.statusSeconds))} / ${verdict(Number(r.runsSeconds))} the ${r.targetSeconds} s target; under the same load \`sim --help\` ${Number(r.helpSeconds).toFixed(2)} s${cpu(r.helpCpuSeconds)}, Node alone ${Number(r.bareNodeSeconds).toFixed(2)} s; store built in ${Number(r.buildSeconds).toFixed(0)} s; load average ${Number(r.loadAverage1m).toFixed(1)}`;
  }
  if (r.section.startsWith('cache')) {
    const one = Number(r.oneThreadSeconds) > 0 ? `; one thread ${Number(r.oneThreadSeconds).toFixed(1)} s, ${Number(r.oneThreadUsPerDecision).toFixed(0)} µs/decision` : '';
    return `${r.replayRequests} HTTP requests, ${r.cacheHits} cache hits, ${Number(r.usPerDecision).toFixed(0)} µs/decision${one}; identical: ${r.identical ? 'yes' : 'NO'} (recording took ${Number(r.recordSeconds).toFixed(1)} s); at this cost 754,706 decisions (20,000 x 5) take ${((Number(r.usPerDecision) * 754_706) / 1e6).toFixed(0)} s`;
  }
  return `${r.users} users, ${r.edges} follows, peak RSS ${r.peakRssMb} MB`;
};
const table = rows.map((r) => [r.section, r.case, r.wallSeconds.toFixed(r.section === 'start-up' || r.section.startsWith('listing') ? 2 : 1), figure(r)]);
const widths = headers.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(' | ');
// Issue 19's first row: is engine time per agent-turn flat in the population? (one thread)
const perTurn = rows
  .filter((r) => r.section.startsWith('engine') && r.case.includes('1 thread') && !r.case.includes('PostgreSQL'))
  .map((r) => `${r.case.split(' ')[0]} agents ${((r.wallSeconds * 1e6) / Number(r.turns)).toFixed(0)} µs`);
const flat = perTurn.length > 0 ? `engine time per agent-turn, 1 thread (target at most 50 µs, flat): ${perTurn.join(', ')}\n` : '';
process.stdout.write(`${line(headers)}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}\n${table.map(line).join('\n')}\n\n${flat}machine: ${JSON.stringify(machine)}\nwritten: bench/results.json\n`);
