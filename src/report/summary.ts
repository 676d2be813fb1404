import type { Report } from './build.js';

/**
 * The summary table of result_data/README.md: per condition, the mean over seeds of the mean final
 * likelihood and of turnout, beside the reference's figure where PROTOCOL.md gives one. Written by
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
