import type { Command } from 'commander';
import type { RunJobsStatus } from '../../api/distributed.js';
import { postgresOnly, type StoreFlags } from '../../api/store.js';
import { DEFAULT_OUT, integerFlag } from '../options.js';
import { printTable } from '../table.js';

/** `sim status`: runs of a PostgreSQL store and their jobs (queued, running, done, failed). */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('runs of a PostgreSQL store and their jobs: queued, running (worker, since, round, rounds/s), done, failed (reason, attempts)')
    .option('--out <dir>', 'output directory', DEFAULT_OUT)
    .option('--json', 'print JSON')
    .option('--watch [seconds]', 'refresh every few seconds (default 2) until Ctrl-C', integerFlag('--watch', 1))
    .action(async (opts: StoreFlags & { json?: boolean; watch?: number | true }) => {
      // Said before the job queue (and the engine code its module shares with submit and worker) is loaded.
      postgresOnly(opts, 'sim status');
      const { queueStatus } = await import('../../api/distributed.js');
      for (;;) {
        const runs = await queueStatus(opts);
        if (opts.watch) process.stdout.write('\x1b[2J\x1b[H');
        if (opts.json) process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
        else show(runs);
        if (!opts.watch) return;
        await new Promise((resolve) => setTimeout(resolve, (opts.watch === true ? 2 : opts.watch!) * 1000));
      }
    });
}

function show(runs: RunJobsStatus[]): void {
  if (runs.length === 0) {
    process.stdout.write('no runs\n');
    return;
  }
  const now = Date.now();
  const ago = (iso: string | null) => (iso ? `${Math.round((now - Date.parse(iso)) / 1000)}s ago` : '');
  const rate = (r: number | null) => (r === null ? '' : r.toFixed(r < 10 ? 2 : 1));
  const rows = runs.flatMap((r) => r.streams.map((s) => [`${r.runId} ${r.status}`, s.stream, s.state, s.worker ?? '', ago(s.since), s.round ?? '', rate(s.roundsPerSecond), s.attempts, s.reason ?? '']));
  // The reason column only when a job failed, so the table fits a terminal.
  const failed = rows.some((row) => row[8] !== '');
  printTable(['run', 'stream', 'job', 'worker', 'since', 'round', 'rounds/s', 'tries', ...(failed ? ['reason'] : [])], failed ? rows : rows.map((row) => row.slice(0, 8)));
}
