import { join } from 'node:path';
import { electionRound } from '../domain/config.js';
import { worldFold } from '../domain/evolve.js';
import { emptyWorld } from '../domain/world.js';
import { UsageError } from '../errors.js';
import { foldStream } from '../events/fold.js';
import { streamId } from '../events/stream-ids.js';
import { type EventStore } from '../sim/store.js';
import { readRunData } from '../export/run-data.js';
import { buildReport, type Report } from '../report/build.js';
import { effectChart, exposureChart, heterogeneityChart, likelihoodChart, pooledChart, toSvg, turnoutChart } from '../report/charts.js';
import type { Exposure } from '../report/exposure.js';
import { readExposure } from '../report/exposure-data.js';
import { reportHtml } from '../report/html.js';
import { requireChains, withHashChainLine, withHashChains } from '../report/integrity.js';
import { poolReports } from '../report/pooled.js';
import { streamsReadBy } from '../sim/run-status.js';
import { checkFolderToWriteInto, writeFileWhole } from '../write-whole.js';
import { openStoreWithRuns, selectRun } from './runs.js';

export interface ReportOptions {
  /** Run ids as typed (default: the latest run); several runs of one config are pooled over their seeds. */
  runs: string[];
  out: string;
  /** The store (src/api/store.ts): a file, sqlite:PATH or postgres://...; default SIM_STORE, else <out>/sim.db. */
  store?: string;
  /** The folder to write into (default: <out>/report/run-<id>). */
  to?: string;
  /** A folder in the reference layout to overlay. */
  compare?: string;
  /** The sweep and setting the runs are, for the report's title (`sim report --sweep`). */
  sweepSetting?: { name: string; setting: string };
}

export interface ReportResult {
  /** The report.html written (report.json beside it). */
  html: string;
  /** report.json's content, for a program. */
  report: Report;
  /** Each run reported, and what it lacks when it is not finished. */
  runs: Array<{ run: number; finished: boolean; missing: string[] }>;
}

/**
 * `sim report`: report.json and a self-contained report.html of one run, or of several runs of one
 * config pooled over their seeds; built only from events whose hash chains verify.
 */
export async function writeReport(opts: ReportOptions): Promise<ReportResult> {
  const store = await openStoreWithRuns(opts, 'read');
  try {
    const runIds = opts.runs.length === 0 ? [await selectRun(store, undefined)] : await Promise.all(opts.runs.map((a) => selectRun(store, a)));
    if (runIds.length > 1) checkPoolable(await Promise.all(runIds.map(async (id) => ({ id, config: (await store.getRun(id)).config }))));
    const runId = runIds.join('+');
    const to = opts.to ?? join(opts.out, 'report', `run-${runId}`);
    const named = { flag: '--to', path: to };
    checkFolderToWriteInto(to, named);
    // A report is what gets published: it is built only from events whose chains are intact.
    const streams = [...new Set((await Promise.all(runIds.map((id) => streamsReadBy(store, id)))).flat())];
    const chains = await requireChains(store, streams);
    const reports: Report[] = [];
    for (const id of runIds) reports.push(await reportOfRun(store, id, opts.compare ?? null));
    const report = reports[0];
    if (reports.length > 1) report.pooled = poolReports(reports);
    const pooled = pooledChart(report);
    const charts = {
      likelihood: await toSvg(likelihoodChart(report)),
      effects: await toSvg(effectChart(report)),
      turnout: await toSvg(turnoutChart(report)),
      heterogeneity: await toSvg(heterogeneityChart(report)),
      exposure: await toSvg(exposureChart(report)),
      pooled: pooled ? await toSvg(pooled) : null,
    };
    // Each file appears whole or not at all.
    writeFileWhole(join(to, 'report.json'), `${JSON.stringify(withHashChains(report, chains), null, 2)}\n`, named);
    writeFileWhole(join(to, 'report.html'), withHashChainLine(reportHtml(report, charts, opts.sweepSetting), chains), named);
    return { html: join(to, 'report.html'), report: withHashChains(report, chains), runs: reports.map((r) => ({ run: r.run, finished: r.finished, missing: r.missing })) };
  } finally {
    await store.close();
  }
}

async function reportOfRun(store: EventStore, runId: number, compare: string | null): Promise<Report> {
  const data = await readRunData(store, runId);
  // The network when the conditions began: who follows whom at the warmup's end.
  const warmup = (await foldStream(store, emptyWorld(), data.warmupStream, worldFold)).state;
  const follows: Array<[number, number]> = [];
  const following = new Map<number, number[]>();
  for (const id of warmup.agentIds) {
    following.set(id, [...warmup.agents[id].following]);
    for (const t of warmup.agents[id].following) follows.push([id, t]);
  }
  const exposures = new Map<string, Map<number, Exposure>>();
  for (const c of data.conditions) {
    const treated = new Set([...c.counts].filter(([, k]) => k.treated === 1).map(([u]) => u));
    if (treated.size === 0 || treated.size === c.counts.size) continue;
    exposures.set(c.stream, await readExposure(store, data.warmupStream, streamId(runId, c.stream), electionRound(data.config), treated, following));
  }
  return buildReport(data, await store.fingerprint(runId), follows, compare, exposures);
}

/** Pooling is for one config under different seeds: anything else would mix different experiments. */
function checkPoolable(runs: Array<{ id: number; config: unknown }>): void {
  const strip = (config: unknown) => {
    const { seed: _seed, treatment_seed: _treatment, ...rest } = config as Record<string, unknown>;
    return JSON.stringify(rest);
  };
  const seedOf = (config: unknown) => (config as { seed: number }).seed;
  const [first, ...rest] = runs;
  for (const r of rest) {
    if (r.id === first.id || seedOf(r.config) === seedOf(first.config)) throw new UsageError(`RUN ${r.id}: same seed (${seedOf(r.config)}) as run ${first.id}; pooling needs runs of different seeds`);
    if (strip(r.config) !== strip(first.config)) throw new UsageError(`RUN ${r.id}: its config differs from run ${first.id}'s in more than the seed; only runs of one config can be pooled`);
  }
}
