import type { Command } from 'commander';
import { EventStore } from '../../events/store.js';
import { DEFAULT_OUT } from '../program.js';
import { printTable } from '../table.js';

export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description('list the runs recorded in an output directory: id, seed, status, events, fingerprint')
    .option('--out <dir>', 'output directory holding sim.db', DEFAULT_OUT)
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { out: string; json?: boolean }) => {
      const store = await EventStore.openExisting(opts.out);
      const runs = store ? await store.listRuns() : [];
      await store?.close();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
        return;
      }
      if (runs.length === 0) {
        process.stdout.write(`no runs in ${opts.out}\n`);
        return;
      }
      printTable(
        ['id', 'seed', 'status', 'last round', 'events', 'fell back', 'fingerprint'],
        runs.map((r) => [r.id, r.seed, r.status, r.lastRound ?? '-', r.events, r.fellBack, r.fingerprint.slice(0, 16)]),
      );
    });
}
