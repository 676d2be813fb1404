import type { Report } from './build.js';
import type { Estimate } from './stats.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (x: number | null | undefined, digits = 3) => (x === null || x === undefined ? '-' : x.toFixed(digits));
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(100 * x).toFixed(1)}%`);
const est = (e: Estimate | null, digits = 3) => (e ? `${e.estimate >= 0 ? '+' : ''}${e.estimate.toFixed(digits)} [${e.ci95[0].toFixed(digits)}, ${e.ci95[1].toFixed(digits)}]` : '-');

function table(headers: string[], rows: string[][]): string {
  return `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

const signed = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${x >= 0 ? '+' : ''}${x.toFixed(3)}`);

/** With --compare, the reference's effect of the same condition sits beside ours. */
function effectsTable(report: Report): string {
  const reference = new Map((report.compare?.conditions ?? []).map((c) => [c.condition, c.likelihoodEffect]));
  const headers = ['condition', 'on mean final likelihood', 'on turnout', ...(report.compare ? ['reference effect on likelihood'] : [])];
  return table(
    headers,
    report.effects.map((e) => [e.stream, est(e.likelihood), est(e.turnout), ...(report.compare ? [signed(reference.get(e.condition))] : [])]),
  );
}

/** A self-contained page: inline SVG charts, tables, no script, no external resource. */
export function reportHtml(report: Report, charts: { likelihood: string; effects: string; turnout: string }): string {
  const offline = report.provider === 'offline' ? '<p class="note">Decisions were made by the <strong>offline persona model</strong>, a documented behavioural model, not an LLM.</p>' : '';
  const unfinished = report.finished ? '' : `<p class="note">This run is not finished: ${esc(report.missing.join('; '))}.</p>`;
  const compare = report.compare
    ? `<h2>Reference (${esc(report.compare.source)})</h2>${table(['condition', 'users', 'mean final likelihood', 'effect vs control'], report.compare.conditions.map((c) => [c.condition, String(c.users), num(c.meanFinalLikelihood), signed(c.likelihoodEffect)]))}`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sim report: run ${report.run}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:0.9em}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}
.note{background:#fff6d6;padding:0.5em 1em;border-left:4px solid #e0b000}.chart{margin:1.5em 0}code{background:#f3f3f3;padding:0 3px}
</style></head><body>
<h1>Run ${report.run}</h1>
<p>${report.users} users, seed ${report.seed}, fingerprint <code>${esc(report.fingerprint)}</code></p>
${offline}${unfinished}
<h2>Conditions</h2>
${table(
  ['condition', 'eligible', 'turnout', 'treated', 'turnout treated', 'turnout untreated', 'stated', 'mean final likelihood', 'likelihood treated', 'likelihood untreated'],
  report.conditions.map((c) => [c.stream, String(c.eligible), pct(c.turnout), String(c.treated), pct(c.turnoutTreated), pct(c.turnoutUntreated), String(c.stated), num(c.meanFinalLikelihood), num(c.meanFinalLikelihoodTreated), num(c.meanFinalLikelihoodUntreated)]),
)}
<h2>Effects versus control (difference in means, 95% interval, Neyman/HC2 standard errors)</h2>
${effectsTable(report)}
${report.acrossSeeds.length > 0 ? `<h3>Across treatment seeds</h3>${table(['condition', 'runs', 'mean likelihood effect', 'sd between runs'], report.acrossSeeds.map((s) => [s.condition, String(s.likelihoodEffect?.runs ?? 0), num(s.likelihoodEffect?.mean), num(s.likelihoodEffect?.sd)]))}` : ''}
${report.mixed.map((m) => `<h3>${esc(m.stream)}: direct and spillover effects</h3><p>Direct (treated minus untreated): ${esc(est(m.direct))}</p>${table(['untreated users following N treated users', 'users', 'mean final likelihood', 'vs the same users in control'], m.spillover.map((s) => [s.treatedFollowees, String(s.users), num(s.meanFinalLikelihood), est(s.vsControl)]))}`).join('\n')}
${compare}
<h2>Charts</h2>
<div class="chart" id="likelihood-chart">${charts.likelihood}</div>
<div class="chart" id="effect-chart">${charts.effects}</div>
<div class="chart" id="turnout-chart">${charts.turnout}</div>
</body></html>
`;
}
