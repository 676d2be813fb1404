import type { Command } from 'commander';
import { join } from 'node:path';
import { emptyWorld } from '../../domain/world.js';
import { readRunData } from '../../export/run-data.js';
import { buildReport } from '../../report/build.js';
import { effectChart, likelihoodChart, toSvg, turnoutChart } from '../../report/charts.js';
import { reportHtml } from '../../report/html.js';
import { hashChainCheck, withHashChainLine, withHashChains } from '../../report/integrity.js';
import { foldStream } from '../../sim/engine.js';
import { streamsReadBy } from '../../sim/run-status.js';
import { checkFolderToWriteInto, writeFileWhole } from '../../write-whole.js';
import { DEFAULT_OUT } from '../program.js';
import { openStoreWithRuns, selectRun } from '../run-select.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write report.html (self-contained, charts as SVG) and report.json: turnout, likelihood, effects with 95% intervals, spillovers')
    .argument('[run]', 'run id (default: the latest run)')
    .option('--out <dir>', 'output directory holding sim.db', DEFAULT_OUT)
    .option('--to <dir>', 'folder to write into (default: <out>/report/run-<id>)')
    .option('--compare <dir>', 'overlay a folder in the reference layout (e.g. ../shared/reference/llm-sociopol/seed_1)')
    .action(async (runArg: string | undefined, opts: { out: string; to?: string; compare?: string }) => {
      const store = await openStoreWithRuns(opts.out);
      try {
        const runId = await selectRun(store, runArg);
        const to = opts.to ?? join(opts.out, 'report', `run-${runId}`);
        const named = { flag: '--to', path: to };
        checkFolderToWriteInto(to, named);
        // A report is what gets published: it is built only from events whose chains are intact.
        const chains = hashChainCheck(store.verifyStreams(await streamsReadBy(store, runId)));
        const data = await readRunData(store, runId);
        // The network when the conditions began: who follows whom at the warmup's end.
        const warmup = foldStream(store, emptyWorld(), data.warmupStream).state;
        const follows: Array<[number, number]> = [];
        for (const id of warmup.agentIds) for (const t of warmup.agents[id].following) follows.push([id, t]);
        const report = buildReport(data, await store.fingerprint(runId), follows, opts.compare ?? null);
        const charts = { likelihood: await toSvg(likelihoodChart(report)), effects: await toSvg(effectChart(report)), turnout: await toSvg(turnoutChart(report)) };
        // Each file appears whole or not at all.
        writeFileWhole(join(to, 'report.json'), `${JSON.stringify(withHashChains(report, chains), null, 2)}\n`, named);
        writeFileWhole(join(to, 'report.html'), withHashChainLine(reportHtml(report, charts), chains), named);
        process.stdout.write(`wrote ${join(to, 'report.html')} and report.json\n`);
        if (!report.finished) process.stderr.write(`sim: run ${runId} is not finished: ${report.missing.join('; ')}; the report covers what exists\n`);
      } finally {
        await store.close();
      }
    });
}
