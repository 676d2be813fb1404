import type { Command } from 'commander';
import { exportCsv, exportEvents } from '../../api/export.js';
import { DEFAULT_OUT } from '../options.js';
import { notice } from '../notice.js';

export function registerExport(program: Command): void {
  const exporter = program.command('export').description("write a run's data for analysis");
  exporter
    .command('csv')
    .description("the reference's CSV layout: per condition voting, treatment, activity, engagement, personas, network (+ GraphML)")
    .argument('[run]', 'run id (default: the latest run)')
    .option('--out <dir>', 'output directory holding sim.db', DEFAULT_OUT)
    .option('--to <dir>', 'folder to write (default: <out>/export/run-<id>)')
    .option('--force', 'replace a non-empty --to folder')
    .action(async (run: string | undefined, opts: { out: string; to?: string; force?: boolean }) => {
      const result = await exportCsv({ ...opts, run });
      process.stdout.write(`exported run ${result.runId} to ${result.to}: ${result.folders.join(', ') || '(no condition recorded)'}\n`);
      if (result.missing.length > 0) notice(`sim: run ${result.runId} is not finished: ${result.missing.join('; ')}; exported what exists (\`sim resume ${result.runId}\` finishes it)`);
    });
  exporter
    .command('events')
    .description('the raw event log as JSON Lines, every stream of the run in order')
    .argument('[run]', 'run id (default: the latest run)')
    .option('--out <dir>', 'output directory holding sim.db', DEFAULT_OUT)
    .option('--to <file>', 'file to write (default: standard output)')
    .action(async (run: string | undefined, opts: { out: string; to?: string }) => {
      const result = await exportEvents({ ...opts, run }, writeStdout);
      // On standard output the events are the output; written to a file, say what was written.
      if (opts.to) process.stdout.write(`exported run ${result.runId} to ${opts.to}: ${result.events.toLocaleString('en-US')} events in ${result.streams} stream${result.streams === 1 ? '' : 's'}\n`);
    });
}

/** Streams lines to standard output; a reader that goes away (`| head`) ends the export quietly. */
async function writeStdout(lines: AsyncIterable<string>): Promise<void> {
  const out = process.stdout;
  let gone = false;
  const onError = (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    gone = true;
  };
  out.on('error', onError);
  try {
    for await (const line of lines) {
      if (gone || out.destroyed) return;
      if (!out.write(line)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            out.off('drain', done);
            out.off('close', done);
            resolve();
          };
          out.once('drain', done);
          out.once('close', done);
        });
      }
    }
  } finally {
    if (!gone) out.off('error', onError);
  }
}
