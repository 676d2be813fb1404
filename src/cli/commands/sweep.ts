import type { Command } from 'commander';
import { storeLine, type StoreFlags } from '../../api/store.js';
import { listSweeps, submitSweep, type SweepOptions } from '../../api/sweep.js';
import { UsageError } from '../../errors.js';
import { addExperimentOptions, DEFAULT_OUT, integerFlag } from '../options.js';
import { spendHooks } from '../run-view.js';
import { printTable } from '../table.js';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** `sim sweep`: one run per seed x setting, submitted to a PostgreSQL store's queue under a name; `--list` lists sweeps. */
export function registerSweep(program: Command): void {
  const command = program
    .command('sweep')
    .description('submit one run per seed x setting to a PostgreSQL store for `sim worker` (e.g. --seeds 1-3 --grid messages.likely_voter_threshold=3,4); --list lists the sweeps')
    .option('--out <dir>', 'output directory', DEFAULT_OUT)
    .option('--seeds <list>', 'seeds, e.g. 1-5 or 1,2,7')
    .option('--set <key=value>', 'a config setting for every run (dotted path, e.g. feed.length=6); repeatable', collect)
    .option('--grid <key=v1,v2>', 'one run per value (several --grid: every combination); repeatable', collect)
    .option('--name <name>', 'the sweep\'s name (default sweep-<first run id>)')
    .option('--list', 'list the sweeps of the store and their runs')
    .option('--takeover <seconds>', 'a dead worker\'s job is taken over within this many seconds (default 60)', integerFlag('--takeover', 20));
  addExperimentOptions(command).action(async (opts: SweepOptions & StoreFlags & { list?: boolean }) => {
    if (opts.list) {
      const sweeps = await listSweeps(opts);
      if (sweeps.length === 0) process.stdout.write('no sweeps\n');
      else printTable(['sweep', 'runs', 'seeds', 'settings'], sweeps.map((s) => [s.name, s.runs.map((r) => r.runId).join(','), [...new Set(s.runs.map((r) => r.seed))].join(','), [...new Set(s.runs.map((r) => r.setting || 'base'))].join(' ')]));
      return;
    }
    if (!opts.seeds) throw new UsageError('--seeds: required (e.g. --seeds 1-5), or --list');
    const result = await submitSweep(opts, (line) => process.stderr.write(`${line}\n`), spendHooks);
    process.stderr.write(`sim: sweep ${result.name}: ${result.runs.length} runs submitted to ${storeLine(opts)}; start \`sim worker --store ...\` to execute them, then \`sim report --sweep ${result.name}\`\n`);
    printTable(['run', 'seed', 'setting'], result.runs.map((r) => [r.runId, r.seed, r.setting || 'base']));
  });
}
