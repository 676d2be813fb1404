import type { Command } from 'commander';
import { listRuns } from '../../api/runs.js';
import { storeName } from '../../api/store.js';
import { DEFAULT_OUT } from '../options.js';
import { EXIT_CODES } from '../../errors.js';
import { printFittedTable } from '../table.js';

export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description('list the runs recorded in an output directory: id, seed, status, events, fingerprint, and whether their stored heads match their events')
    .option('--out <dir>', 'output directory holding sim.db', DEFAULT_OUT)
    .option('--json', 'print JSON instead of a table')
    .option('--verify', 'recompute every hash chain instead of checking the heads (seconds per million events)')
    .action(async (opts: { out: string; store?: string; json?: boolean; verify?: boolean }) => {
      const runs = await listRuns(opts, { verify: opts.verify });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
      } else if (runs.length === 0) {
        process.stdout.write(`no runs in ${opts.store !== undefined || process.env.SIM_STORE ? storeName(opts) : opts.out}\n`);
      } else {
        // One line per run within the terminal's width: the run in progress's stream is cut first, then the fingerprint.
        printFittedTable(
          ['id', 'seed', 'status', 'last round', 'events', 'fell back', 'fingerprint', 'chains'],
          runs.map((r) => [r.id, r.seed, r.status, `${r.lastRound ?? '-'}${r.inProgress ? ` (${r.inProgress})` : ''}`, r.events, r.fellBack, r.fingerprint.slice(0, 16), r.chains.ok ? (r.chains.checked === 'events' ? 'verified' : 'ok') : 'BROKEN']),
          [3, 6],
        );
      }
      // Said on stderr too, so a script reading the JSON or a glance at the table cannot miss it.
      for (const r of runs) if (!r.chains.ok) process.stderr.write(`sim: run ${r.id}: ${r.chains.problem} (its fingerprint is not trustworthy; \`sim project ${r.id} --out ${opts.out}\` names the first bad event)\n`);
      // A damaged store is an error (README's exit codes), so a script checking the store sees it.
      if (runs.some((r) => !r.chains.ok)) process.exitCode = EXIT_CODES.integrity;
    });
}
