import type { Report } from './build.js';
import type { PairedEstimate } from './stats.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** A value that rounds to zero is "0.000", never "-0.000". */
const fixed = (x: number, digits: number) => (Number(x.toFixed(digits)) === 0 ? (0).toFixed(digits) : x.toFixed(digits));
const num = (x: number | null | undefined, digits = 3) => (x === null || x === undefined ? '-' : fixed(x, digits));
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(100 * x).toFixed(1)}%`);
/** Signed to `digits` places; a value that rounds to zero is "0.000", never "-0.000". */
export const sgn = (x: number, digits: number) => {
  const text = fixed(x, digits);
  return `${x > 0 && Number(text) !== 0 ? '+' : ''}${text}`;
};
const est = (e: { estimate: number; ci95: [number, number] } | null, digits = 3) => (e ? `${sgn(e.estimate, digits)} [${sgn(e.ci95[0], digits)}, ${sgn(e.ci95[1], digits)}]` : '-');
const pvalue = (p: number | null | undefined) => (p === null || p === undefined ? '-' : p < 0.001 ? '< 0.001' : p.toFixed(3));

function table(headers: string[], rows: string[][]): string {
  return `<div class="table"><table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table></div>`;
}

const signed = (x: number | null | undefined) => (x === null || x === undefined ? '-' : sgn(x, 3));
const n = (e: PairedEstimate | null) => (e ? String(e.n) : '-');

/** With --compare, the reference's effect of the same condition sits beside ours. */
function effectsTable(report: Report): string {
  const reference = new Map((report.compare?.conditions ?? []).map((c) => [c.condition, c.likelihoodEffect]));
  const headers = ['condition', 'likelihood: paired', 'likelihood: unpaired', 'turnout: paired', 'turnout: unpaired', 'users paired', ...(report.compare ? ['reference effect on likelihood'] : [])];
  return table(
    headers,
    report.effects.map((e) => [e.stream, est(e.paired.likelihood), est(e.likelihood), est(e.paired.turnout), est(e.turnout), n(e.paired.likelihood), ...(report.compare ? [signed(reference.get(e.condition))] : [])]),
  );
}

const PAIRED_NOTE = `<p class="explain"><strong>Paired</strong>: the mean over users of (their outcome under the condition minus their outcome under control), with the paired standard error sd/√n. Every condition starts from the same warmup with common random numbers, so each simulated user has an outcome under both: this is the effect on <em>these</em> users, and its interval is narrow because each user is their own control. <strong>Unpaired</strong>: difference in means of two samples with Neyman/HC2 standard errors, what a field experiment of this size (different people in each arm) would see; use it to compare with field studies. Turnout is 0/1 over users 18+; likelihood is each user's last stated answer (0-4).</p>`;

function mixedSection(report: Report): string {
  if (report.mixed.length === 0) return '';
  const explain = `<p class="explain">Each row: the untreated users (18+, who stated a likelihood) of the mixed condition who followed N treated users when the condition began. "Paired" is the mean, over those users, of their final likelihood here minus their own final likelihood in control, with its 95% interval; <code>0.000 [0.000, 0.000]</code> means that not one of them ended with a different answer than in control (no spillover reached them). "Unpaired" compares their mean with the mean of the same users in control as if they were two independent samples: its interval is what a field experiment would have, and is wide even when nobody changed.</p>`;
  return `<h2>Direct and spillover effects in mixed conditions</h2>${explain}${report.mixed
    .map(
      (m) =>
        `<h3>${esc(m.stream)}</h3><p>Direct (treated minus untreated, unpaired): ${esc(est(m.direct))}</p>${table(
          ['untreated users following N treated users', 'users', 'mean final likelihood', 'paired vs the same users in control', 'unpaired vs control'],
          m.spillover.map((s) => [s.treatedFollowees, String(s.users), num(s.meanFinalLikelihood), est(s.pairedVsControl), est(s.vsControl)]),
        )}`,
    )
    .join('\n')}`;
}

function exposureSection(report: Report, chart: string): string {
  if (report.exposure.length === 0) return '';
  const explain = `<p class="explain">Exposure measured from the events, for each untreated user (18+, stated under both): ${report.exposure[0].measures.map((m) => `<em>${esc(m.measure)}</em>: ${esc(m.definition)}`).join('; ')}. Each row is the paired difference of those users' final likelihood against themselves in control. The trend is the OLS slope of the per-user difference on the dose (uncapped) with a heteroskedasticity-robust (HC0) standard error and a two-sided normal p-value.</p>`;
  return `<h2>Spillovers by measured exposure</h2>${explain}${report.exposure
    .map((x) =>
      x.measures
        .map(
          (m) =>
            `<h3>${esc(x.stream)}: ${esc(m.measure)}</h3>${table(
              ['dose', 'users', 'paired vs control'],
              m.bins.map((b) => [b.dose, String(b.users), est(b.paired)]),
            )}<p>Dose trend: ${m.trend ? `slope ${esc(sgn(m.trend.slope, 4))} per unit (SE ${num(m.trend.se, 4)}), p ${esc(pvalue(m.trend.p))}, ${m.trend.users} users` : 'no variation in dose'}</p>`,
        )
        .join('\n'),
    )
    .join('\n')}<div class="chart" id="exposure-chart">${chart}</div>`;
}

function heterogeneitySection(report: Report, chart: string): string {
  if (report.heterogeneity.length === 0) return '';
  return `<h2>Paired effects by persona attribute</h2><p class="explain">The paired effect (condition minus control, same users, 18+) within groups of users. Follower-count quintiles are by rank of followers when the conditions began. A group of one user has no interval.</p>${table(
    ['condition', 'attribute', 'group', 'users', 'likelihood: paired', 'turnout: paired'],
    report.heterogeneity.map((h) => [h.stream, h.attribute, h.group, String(h.users), est(h.likelihood), est(h.turnout)]),
  )}<div class="chart" id="heterogeneity-chart">${chart}</div>`;
}

function pooledSection(report: Report, chart: string | null): string {
  const p = report.pooled;
  if (!p) return '';
  const missing = p.notInEveryRun.length > 0 ? `<p class="note">Not in every run (pooled over the runs that have them): ${esc(p.notInEveryRun.join(', '))}.</p>` : '';
  return `<h2>Pooled over ${p.runs.length} seeds</h2><p class="explain">Runs ${esc(p.runs.map((r) => `${r.run} (seed ${r.seed})`).join(', '))} of one config. Estimator: ${esc(p.estimator)}. A tau² of 0: the seeds' estimates vary no more than their own standard errors explain${p.runs.length < 5 ? ` (${p.runs.length} seeds say little about it)` : ''}.</p>${missing}${table(
    ['condition', 'outcome', 'kind', 'per seed', 'pooled [95%]', 'between-seed variance tau²'],
    p.effects.map((e) => [e.stream, e.metric, e.kind, e.perSeed.map((s) => sgn(s.estimate, 3)).join(' '), est(e.pooled), e.pooled ? (e.pooled.tau2 === 0 ? '0' : e.pooled.tau2.toPrecision(2)) : '-']),
  )}${chart ? `<div class="chart" id="pooled-chart">${chart}</div>` : ''}`;
}

/** Runs as a reader takes them in: "1-5" for a range, else "1, 3, 8". */
export function runList(runs: readonly number[]): string {
  const sorted = [...runs].sort((a, b) => a - b);
  const range = sorted.length > 2 && sorted.every((r, i) => i === 0 || r === sorted[i - 1] + 1);
  return range ? `${sorted[0]}-${sorted[sorted.length - 1]}` : sorted.join(', ');
}

/** What the report is of: one run, or the runs it pools with their seeds (and the sweep setting, when given). */
export function reportTitle(report: Report, sweep?: { name: string; setting: string }): string {
  const p = report.pooled;
  const what = p ? `Runs ${runList(p.runs.map((r) => r.run))} pooled (seeds ${runList(p.runs.map((r) => r.seed))})` : `Run ${report.run}`;
  return sweep ? `Sweep ${sweep.name}, ${sweep.setting || 'base'}: ${what.charAt(0).toLowerCase()}${what.slice(1)}` : what;
}

export interface ReportCharts {
  likelihood: string;
  effects: string;
  turnout: string;
  heterogeneity: string;
  exposure: string;
  pooled: string | null;
}

/** A self-contained page: inline SVG charts, tables, no script, no external resource. */
export function reportHtml(report: Report, charts: ReportCharts, sweep?: { name: string; setting: string }): string {
  const title = reportTitle(report, sweep);
  const offline = report.provider === 'offline' ? '<p class="note">Decisions were made by the <strong>offline persona model</strong>, a documented behavioural model, not an LLM.</p>' : '';
  const unfinished = report.finished ? '' : `<p class="note">This run is not finished: ${esc(report.missing.join('; '))}.</p>`;
  const compare = report.compare
    ? `<h2>Reference (${esc(report.compare.source)})</h2>${table(['condition', 'users', 'mean final likelihood', 'effect vs control'], report.compare.conditions.map((c) => [c.condition, String(c.users), num(c.meanFinalLikelihood), signed(c.likelihoodEffect)]))}`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sim report: ${esc(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:0.85em}th,td{border:1px solid #ccc;padding:4px 6px;text-align:right}td{white-space:nowrap}th:first-child,td:first-child{text-align:left}.table{overflow-x:auto}
.note{background:#fff6d6;padding:0.5em 1em;border-left:4px solid #e0b000}.explain{color:#444;font-size:0.92em;max-width:860px}.chart{margin:1.5em 0;overflow-x:auto}.chart svg{display:block}code{background:#f3f3f3;padding:0 3px}
</style></head><body>
<h1>${esc(title)}</h1>
<p>${report.pooled ? `Run ${report.run}: ` : ''}${report.users} users, seed ${report.seed}, fingerprint <code>${esc(report.fingerprint)}</code></p>
${report.pooled ? `<p class="note">The tables and charts down to "Pooled over ${report.pooled.runs.length} seeds" are of run ${report.run} (seed ${report.seed}); that section combines runs ${esc(report.pooled.runs.map((r) => `${r.run} (seed ${r.seed})`).join(', '))}.</p>` : ''}
${offline}${unfinished}
<h2>Conditions</h2>
${table(
  ['condition', 'eligible', 'turnout', 'turnout 95%', 'treated', 'turnout treated', 'turnout untreated', 'stated', 'mean final likelihood', 'likelihood treated', 'likelihood untreated'],
  report.conditions.map((c) => [c.stream, String(c.eligible), pct(c.turnout), c.turnoutCi95 ? `${pct(c.turnoutCi95[0])}-${pct(c.turnoutCi95[1])}` : '-', String(c.treated), pct(c.turnoutTreated), pct(c.turnoutUntreated), String(c.stated), num(c.meanFinalLikelihood), num(c.meanFinalLikelihoodTreated), num(c.meanFinalLikelihoodUntreated)]),
)}
<div class="chart" id="likelihood-chart">${charts.likelihood}</div>
<div class="chart" id="turnout-chart">${charts.turnout}</div>
<h2>Effects versus control (95% intervals)</h2>
${PAIRED_NOTE}
${effectsTable(report)}
<div class="chart" id="effect-chart">${charts.effects}</div>
${report.acrossSeeds.length > 0 ? `<h3>Across treatment seeds</h3>${table(['condition', 'runs', 'mean likelihood effect', 'sd between runs'], report.acrossSeeds.map((s) => [s.condition, String(s.likelihoodEffect?.runs ?? 0), num(s.likelihoodEffect?.mean), num(s.likelihoodEffect?.sd)]))}` : ''}
${pooledSection(report, charts.pooled)}
${mixedSection(report)}
${exposureSection(report, charts.exposure)}
${heterogeneitySection(report, charts.heterogeneity)}
${compare}
</body></html>
`;
}
