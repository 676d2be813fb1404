/**
 * Where the world's memory goes (docs/performance.md, "The million"): runs warmup + control like
 * bench/engine-case.ts with V8's sampling heap profiler on, and at the end of the control's last round
 * (after a full GC) prints the live bytes by allocation site, then process.memoryUsage().
 * Usage: node --expose-gc --import tsx bench/heap-case.ts USERS DIR
 */
import { Session } from 'node:inspector/promises';
import { recordRun } from '../src/api/index.js';
import { parseExperiment } from '../src/domain/config.js';
import { OfflineProvider } from '../src/domain/offline-model.js';
import { benchPopulation } from './population.js';

interface Node { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: Node[] }

const [usersArg, dir] = process.argv.slice(2);
const config = parseExperiment({ n_users: Number(usersArg), seed: 1, run_conditions: ['control'] });
const session = new Session();
session.connect();
await session.post('HeapProfiler.startSampling', { samplingInterval: 16384 });
const population = benchPopulation(config);
let report: string | null = null;
const gc = (globalThis as { gc?: () => void }).gc;
const mb = (n: number) => (n / 2 ** 20).toFixed(1);
const atEnd = async (label: string) => {
  gc?.();
  const { profile } = (await session.post('HeapProfiler.getSamplingProfile')) as unknown as { profile: { head: Node } };
  const bySite = new Map<string, number>();
  const walk = (n: Node, path: string[]) => {
    const f = n.callFrame;
    const here = `${f.functionName || '(anon)'} ${f.url.replace(/^.*\/(src|bench|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
    const p = [...path, here];
    if (n.selfSize > 0) {
      // The site: the innermost frame of ours (src/), with its caller.
      const ours = p.filter((s) => s.includes(' src/'));
      const key = ours.length ? ours.slice(-2).join(' <- ') : p.slice(-2).join(' <- ');
      bySite.set(key, (bySite.get(key) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c, p);
  };
  walk(profile.head, []);
  const total = [...bySite.values()].reduce((a, b) => a + b, 0);
  const lines = [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 40).map(([k, v]) => `${mb(v).padStart(9)} MB ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  const m = process.memoryUsage();
  report = `${label}: live sampled ${mb(total)} MB\n${lines.join('\n')}\nrss ${mb(m.rss)} heapUsed ${mb(m.heapUsed)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)}\n`;
  process.stderr.write(report);
};
// Both profiles are awaited (and a failed one fails the bench): the run does not wait for them.
const profiles: Promise<void>[] = [];
await recordRun(
  { out: dir, config, population, provider: () => new OfflineProvider(), workers: 1, codeVersion: 'bench' },
  {
    onProgress: (p) => {
      if (p.stage === 'warmup' && p.roundsDone === p.roundsTotal) profiles.push(atEnd('end of warmup'));
      if (p.stage === 'main' && p.roundsDone === p.roundsTotal) profiles.push(atEnd('end of control'));
    },
  },
);
await Promise.all(profiles);
