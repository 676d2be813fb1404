import type { Command } from 'commander';
import { writeReport } from '../../api/report.js';
import { writeSweepReport } from '../../api/sweep.js';
import { DEFAULT_OUT } from '../options.js';
import { notice } from '../notice.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write report.html (self-contained, charts as SVG) and report.json: turnout, likelihood, effects paired and unpaired with 95% intervals, spillovers by exposure, effects by persona attribute; several runs of one config are pooled over their seeds')
    .argument('[runs...]', 'run id (default: the latest run); several runs of one config with different seeds are pooled')
    .option('--out <dir>', 'output directory holding sim.db', DEFAULT_OUT)
    .option('--to <dir>', 'folder to write into (default: <out>/report/run-<id>)')
    .option('--sweep <name>', 'report a sweep (sim sweep): one report per setting, each pooling its seeds, in <to>/<setting> (default <out>/report/<name>/)')
    .option('--compare <dir>', 'overlay a folder in the reference layout (e.g. one seed of the reference\'s published data; see docs/protocol.md), or a folder of seed_<n> folders (as result_data/), pooled')
    .action(async (runs: string[], opts: { out: string; to?: string; compare?: string; sweep?: string }) => {
      if (opts.sweep !== undefined) {
        for (const { setting, runIds, result } of await writeSweepReport({ ...opts, sweep: opts.sweep })) {
          process.stdout.write(`${setting || 'base'}: runs ${runIds.join(', ')} pooled: wrote ${result.html} and report.json\n`);
          for (const r of result.runs) if (!r.finished) notice(`sim: run ${r.run} is not finished: ${r.missing.join('; ')}; the report covers what exists`);
        }
        return;
      }
      const result = await writeReport({ ...opts, runs });
      process.stdout.write(`wrote ${result.html} and report.json\n`);
      for (const r of result.runs) if (!r.finished) notice(`sim: run ${r.run} is not finished: ${r.missing.join('; ')}; the report covers what exists`);
    });
}
