/**
 * How long a job waits before another worker continues it: after its worker is killed with kill -9
 * (expiry + maintenance + retry delay + polling; bounded by --takeover, default 60 s), and after its
 * worker is stopped with SIGTERM (released at the next round boundary). Two `sim worker` processes on
 * a PostgreSQL database (argv[2], an empty database); prints one JSON line.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const url = process.argv[2];
const takeover = process.argv[3] ?? '60';
const bin = fileURLToPath(new URL('../bin/sim.js', import.meta.url));
const env = { ...process.env, OPENAI_API_KEY: '' };
// The workers' logs (<out>/logs/worker-NAME.log) go to a folder of the case's own, removed at exit.
const logsOut = mkdtempSync(join(tmpdir(), 'sim-bench-workers-'));
process.on('exit', () => rmSync(logsOut, { recursive: true, force: true }));


function worker(name: string): { child: ChildProcessWithoutNullStreams; closed: Promise<unknown>; next: (pattern: RegExp) => Promise<{ match: RegExpExecArray; at: number }> } {
  const child = spawn(process.execPath, [bin, 'worker', '--store', url, '--name', name, '--takeover', takeover, '--out', logsOut], { env });
  const closed = new Promise((resolve) => child.on('close', resolve));
  let text = '';
  const waiters: Array<{ pattern: RegExp; resolve: (v: { match: RegExpExecArray; at: number }) => void }> = [];
  child.stderr.on('data', (c: Buffer) => {
    text += c.toString();
    for (const w of [...waiters]) {
      const match = w.pattern.exec(text);
      if (match) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve({ match, at: Date.now() });
      }
    }
  });
  return { child, closed, next: (pattern) => new Promise((resolve) => waiters.push({ pattern, resolve })) };
}

async function measure(signal: 'SIGKILL' | 'SIGTERM', seed: number): Promise<number> {
  const submitted = spawnSync(process.execPath, [bin, 'submit', '--n-users', '1000', '--seed', String(seed), '--conditions', 'control', '--store', url, '--takeover', takeover], { env, encoding: 'utf8' });
  if (submitted.status !== 0) throw new Error(submitted.stderr);
  const runId = submitted.stdout.trim();
  const first = worker(`first-${seed}`);
  await first.next(new RegExp(`run ${runId} control: started`));
  const second = worker(`second-${seed}`);
  await new Promise((r) => setTimeout(r, 1000));
  const since = Date.now();
  first.child.kill(signal);
  const { at } = await second.next(new RegExp(`run ${runId} control: started`));
  first.child.kill('SIGKILL');
  second.child.kill('SIGKILL');
  await Promise.all([first.closed, second.closed]);
  return (at - since) / 1000;
}

const killed = await measure('SIGKILL', 11);
const stopped = await measure('SIGTERM', 12);
process.stdout.write(`${JSON.stringify({ wallSeconds: killed + stopped, takeoverBoundSeconds: Number(takeover), afterKill9Seconds: killed, afterSigtermSeconds: stopped, loadAverage1m: loadavg()[0] })}\n`);
