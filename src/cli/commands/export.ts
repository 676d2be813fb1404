import type { Command } from 'commander';
import { join } from 'node:path';
import { conditionRuns, parseExperiment } from '../../domain/config.js';
import { exportRunCsv } from '../../export/csv-export.js';
import { WARMUP_STREAM } from '../../domain/config.js';
import { requireChains } from '../../report/integrity.js';
import { streamsReadBy } from '../../sim/run-status.js';
import { DEFAULT_OUT } from '../options.js';
import { openStoreWithRuns, selectRun } from '../../api/index.js';
import { checkFileTarget, checkFolderTarget, writeFileWhole } from '../../write-whole.js';

export function registerExport(program: Command): void {
  const exporter = program.command('export').description("write a run's data for analysis");
  exporter
    .command('csv')
    .description("the reference's CSV layout: per condition voting, treatment, activity, engagement, personas, network (+ GraphML)")
    .argument('[run]', 'run id (default: the latest run)')
    .option('--out <dir>', 'output directory holding sim.db', DEFAULT_OUT)
    .option('--to <dir>', 'folder to write (default: <out>/export/run-<id>)')
    .option('--force', 'replace a non-empty --to folder')
    .action(async (runArg: string | undefined, opts: { out: string; to?: string; force?: boolean }) => {
      const store = await openStoreWithRuns(opts.out);
      try {
        const runId = await selectRun(store, runArg);
        const to = opts.to ?? join(opts.out, 'export', `run-${runId}`);
        checkFolderTarget(to, { flag: '--to', path: to });
        // Exports feed publications: only from events whose hash chains are intact.
        requireChains(store, await streamsReadBy(store, runId));
        const result = await exportRunCsv(store, runId, to, opts.force ?? false);
        process.stdout.write(`exported run ${runId} to ${to}: ${result.folders.join(', ') || '(no condition recorded)'}\n`);
        if (result.missing.length > 0) process.stderr.write(`sim: run ${runId} is not finished: ${result.missing.join('; ')}; exported what exists (\`sim resume ${runId}\` finishes it)\n`);
      } finally {
        await store.close();
      }
    });
  exporter
    .command('events')
    .description('the raw event log as JSON Lines, every stream of the run in order')
    .argument('[run]', 'run id (default: the latest run)')
    .option('--out <dir>', 'output directory holding sim.db', DEFAULT_OUT)
    .option('--to <file>', 'file to write (default: standard output)')
    .action(async (runArg: string | undefined, opts: { out: string; to?: string }) => {
      const store = await openStoreWithRuns(opts.out);
      try {
        const runId = await selectRun(store, runArg);
        // The warmup first, then the conditions in the config's order: the order they ran in.
        const order = [WARMUP_STREAM, ...conditionRuns(parseExperiment((await store.getRun(runId)).config)).map((c) => c.stream)];
        const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
        const streams = (await store.runStreams(runId)).sort((a, b) => rank(a.name) - rank(b.name));
        if (opts.to) checkFileTarget(opts.to, { flag: '--to', path: opts.to });
        // Verified whole before the first line goes out: standard output cannot be taken back.
        requireChains(store, streams.map((s) => s.streamId));
        const lines = function* () {
          for (const s of streams) {
            for (const row of store.rawEvents(s.streamId)) {
              yield `{"position":${row.position},"stream":${JSON.stringify(s.name)},"sequence":${row.stream_position},"round":${row.round},"type":${JSON.stringify(row.type)},"agent":${row.agent_id ?? 'null'},"data":${row.payload},"hash":"${row.hash}"}\n`;
            }
          }
        };
        if (opts.to) writeFileWhole(opts.to, lines(), { flag: '--to', path: opts.to });
        else await writeStdout(lines());
      } finally {
        await store.close();
      }
    });
}

/** Streams lines to standard output; a reader that goes away (`| head`) ends the export quietly. */
async function writeStdout(lines: Iterable<string>): Promise<void> {
  const out = process.stdout;
  let gone = false;
  const onError = (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    gone = true;
  };
  out.on('error', onError);
  try {
    for (const line of lines) {
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
