import type { Report } from './build.js';
import type { PooledFigures } from './pooled.js';

/**
 * The summary table of result_data/README.md: per condition, the mean over seeds of the mean final
 * likelihood and of turnout, beside the reference's figure where docs/protocol.md gives one. Written by
 * `npm run results` from the reports it just made, so the README can never disagree with the files.
 */
export function resultsSummaryTable(reports: readonly Report[], reference: Readonly<Record<string, number>>): string {
  const order: string[] = [];
  const likelihood = new Map<string, number[]>();
  const turnout = new Map<string, number[]>();
  for (const report of reports) {
    for (const c of report.conditions) {
      if (!order.includes(c.condition)) order.push(c.condition);
      if (c.meanFinalLikelihood !== null) likelihood.set(c.condition, [...(likelihood.get(c.condition) ?? []), c.meanFinalLikelihood]);
      if (c.turnout !== null) turnout.set(c.condition, [...(turnout.get(c.condition) ?? []), c.turnout]);
    }
  }
  const avg = (xs: number[] | undefined) => (xs && xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const lines = [
    '| condition | mean final likelihood | turnout | reference (LLM-SocioPol) mean final likelihood |',
    '| --- | --- | --- | --- |',
    ...order.map((c) => {
      const l = avg(likelihood.get(c));
      const t = avg(turnout.get(c));
      return `| ${c} | ${l === null ? '-' : l.toFixed(3)} | ${t === null ? '-' : `${(100 * t).toFixed(1)}%`} | ${c in reference ? reference[c].toFixed(3) : '-'} |`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}

const fmt = (e: { estimate: number; ci95: [number, number] } | null, scale = 1, digits = 3) =>
  e ? `${e.estimate >= 0 ? '+' : ''}${(scale * e.estimate).toFixed(digits)} [${(scale * e.ci95[0]).toFixed(digits)}, ${(scale * e.ci95[1]).toFixed(digits)}]` : '-';

/**
 * The pooled effects table of result_data/README.md: per condition, the effect on the final
 * likelihood and on turnout (points) pooled over the seeds, paired and unpaired, with 95% intervals,
 * followed by the estimator in words.
 */
export function pooledEffectsTable(pooled: PooledFigures): string {
  const get = (stream: string, metric: string, kind: string) => pooled.effects.find((e) => e.stream === stream && e.metric === metric && e.kind === kind)?.pooled ?? null;
  const streams = [...new Set(pooled.effects.map((e) => e.stream))];
  const lines = [
    `| condition | likelihood: paired | likelihood: unpaired | turnout (pts): paired | turnout (pts): unpaired | seeds |`,
    '| --- | --- | --- | --- | --- | --- |',
    ...streams.map(
      (s) =>
        `| ${s} | ${fmt(get(s, 'likelihood', 'paired'))} | ${fmt(get(s, 'likelihood', 'unpaired'))} | ${fmt(get(s, 'turnout', 'paired'), 100, 2)} | ${fmt(get(s, 'turnout', 'unpaired'), 100, 2)} | ${get(s, 'likelihood', 'paired')?.seeds ?? 0} |`,
    ),
  ];
  return `${lines.join('\n')}\n\nPaired: mean over users of (outcome under the condition minus outcome under control), the effect on these simulated users. Unpaired: difference in means of two samples, what a field experiment of this size would see. Pooled over seeds: ${pooled.estimator}.\n`;
}
