import { compile, type TopLevelSpec } from 'vega-lite';
import { parse, View } from 'vega';
import type { Report } from './build.js';

/** Renders a vega-lite spec to an SVG string on the server, so the report needs no script or network. */
export async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

const WIDTH = 640;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
/** Stream names such as "experiment_info_message/2" are the labels: show them whole. */
// Legends below the plot: on the right, long stream names push the chart wider than the page.
const CONFIG = { axis: { labelLimit: 0 }, legend: { labelLimit: 0, orient: 'bottom' as const, columns: 3 } };

/**
 * One colour per condition, the same in every report and chart whatever else is shown (so adding
 * --compare or a condition never recolours a line). Other conditions take the spare colours in
 * the order of their names. Colours are far apart in hue and lightness (Okabe-Ito and kin).
 */
const CONDITION_COLOURS: Readonly<Record<string, string>> = {
  control: '#000000',
  treatment_info_message: '#0072b2',
  treatment_soc_message: '#d55e00',
  experiment_info_message: '#56b4e9',
  experiment_soc_message: '#e69f00',
};
const SPARE_COLOURS = ['#009e73', '#cc79a7', '#8c564b', '#7f7f7f', '#bcbd22', '#f0e442'];

function colourScale(conditions: readonly string[]): { domain: string[]; range: string[] } {
  const domain = [...new Set(conditions)].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  const spare = domain.filter((c) => !(c in CONDITION_COLOURS));
  return { domain, range: domain.map((c) => CONDITION_COLOURS[c] ?? SPARE_COLOURS[spare.indexOf(c) % SPARE_COLOURS.length]) };
}
const KNOWN = Object.keys(CONDITION_COLOURS);
const order = (c: string) => (KNOWN.includes(c) ? KNOWN.indexOf(c) : KNOWN.length);
const conditionOf = (stream: string) => stream.split('/')[0];

export function likelihoodChart(report: Report): TopLevelSpec {
  const values = Object.entries(report.likelihoodByRound).flatMap(([stream, points]) =>
    points.filter((p) => p.mean !== null).map((p) => ({ condition: conditionOf(stream), series: stream, source: 'this run', round: p.round, mean: p.mean })),
  );
  for (const [condition, points] of Object.entries(report.compare?.likelihoodByRound ?? {})) {
    for (const p of points) if (p.mean !== null) values.push({ condition, series: `reference: ${condition}`, source: 'reference', round: p.round, mean: p.mean });
  }
  return {
    $schema: SCHEMA,
    title: 'Mean voting likelihood by round (latest answer of each user who answered so far)',
    config: CONFIG,
    width: WIDTH,
    height: 300,
    data: { values },
    mark: { type: 'line', point: false },
    encoding: {
      x: { field: 'round', type: 'quantitative', title: 'round (warmup <= 0, election day = last)' },
      y: { field: 'mean', type: 'quantitative', title: 'mean likelihood (0-4)', scale: { zero: false } },
      color: { field: 'condition', type: 'nominal', title: 'condition', scale: colourScale(values.map((v) => v.condition)) },
      // Repeated treatment seeds and the reference are lines of their own in their condition's colour.
      detail: { field: 'series', type: 'nominal' },
      // The "this run / reference" key only means something when a reference is overlaid.
      ...(report.compare ? { strokeDash: { field: 'source', type: 'nominal', title: 'source', scale: { domain: ['this run', 'reference'], range: [[1, 0], [6, 4]] } } } : {}),
    },
  };
}

const SHAPES = ['circle', 'square', 'diamond', 'triangle-up', 'triangle-down', 'cross'];

/** Points with 95% intervals on rows, coloured by condition; `kind` offsets paired / unpaired / reference. */
function intervalChart(title: string, xTitle: string, values: Array<Record<string, unknown>>, rowTitle: string | null, kinds: string[], rowOrder?: string[]): TopLevelSpec {
  const conditions = values.map((v) => String(v.condition));
  const y = { field: 'row', type: 'nominal' as const, title: rowTitle, sort: rowOrder ?? null };
  // All zero (no spillover at all) would give the x axis no extent: give it one around 0.
  const extent = Math.max(0, ...values.flatMap((v) => [v.estimate, v.lo, v.hi].filter((x): x is number => typeof x === 'number').map(Math.abs)));
  const xScale = extent === 0 ? { domain: [-0.05, 0.05] } : {};
  const yOffset = { field: 'kind', type: 'nominal' as const, scale: { domain: kinds } };
  const color = { field: 'condition', type: 'nominal' as const, title: 'condition', scale: colourScale(conditions) };
  const rows = new Set(values.map((v) => v.row)).size;
  return {
    $schema: SCHEMA,
    title,
    config: CONFIG,
    width: WIDTH,
    // With an offset channel the step is per offset band: each point gets its own line.
    height: { step: 12 } as unknown as number,
    data: { values },
    layer: [
      { mark: { type: 'rule' }, transform: [{ filter: 'datum.lo != null' }], encoding: { y, yOffset, x: { field: 'lo', type: 'quantitative', title: xTitle, scale: xScale }, x2: { field: 'hi' }, color } },
      {
        mark: { type: 'point', size: 60, filled: true },
        encoding: {
          y,
          yOffset,
          x: { field: 'estimate', type: 'quantitative', title: xTitle, scale: xScale },
          color,
          // The kinds' key above the plot: beside the conditions' key below, long names pushed it off the page ("unp").
          shape: { field: 'kind', type: 'nominal', title: null, legend: { orient: 'top', direction: 'horizontal', columns: Math.min(kinds.length, 3), symbolStrokeColor: '#333', symbolFillColor: '#333' }, scale: { domain: kinds, range: kinds.map((_, i) => SHAPES[i % SHAPES.length]) } },
        },
      },
      { mark: { type: 'rule', strokeDash: [4, 4], color: '#888' }, data: { values: [{ zero: 0 }] }, encoding: { x: { field: 'zero', type: 'quantitative' } } },
    ],
    ...(rows === 0 ? { height: 60 } : {}),
  } as TopLevelSpec;
}

/** Effects on the final likelihood: paired and unpaired for this run, the reference's point under --compare. */
export function effectChart(report: Report): TopLevelSpec {
  const values: Array<Record<string, unknown>> = [];
  for (const e of report.effects) {
    const condition = conditionOf(e.stream);
    if (e.paired.likelihood) values.push({ row: e.stream, condition, kind: 'paired', estimate: e.paired.likelihood.estimate, lo: e.paired.likelihood.ci95[0], hi: e.paired.likelihood.ci95[1] });
    if (e.likelihood) values.push({ row: e.stream, condition, kind: 'unpaired', estimate: e.likelihood.estimate, lo: e.likelihood.ci95[0], hi: e.likelihood.ci95[1] });
  }
  for (const c of report.compare?.conditions ?? []) {
    if (c.likelihoodEffect !== null) values.push({ row: `reference: ${c.condition}`, condition: c.condition, kind: 'reference', estimate: c.likelihoodEffect, lo: null, hi: null });
  }
  return intervalChart('Effect on the mean final likelihood versus control, with 95% intervals', 'difference (condition - control)', values, null, report.compare ? ['paired', 'unpaired', 'reference'] : ['paired', 'unpaired']);
}

/** Turnout per condition with its 95% interval, the value written on each bar. */
export function turnoutChart(report: Report): TopLevelSpec {
  const values = report.conditions.flatMap((c) =>
    c.turnout === null ? [] : [{ stream: c.stream, condition: conditionOf(c.stream), turnout: c.turnout, lo: c.turnoutCi95?.[0] ?? c.turnout, hi: c.turnoutCi95?.[1] ?? c.turnout, label: `${(100 * c.turnout).toFixed(1)}%` }],
  );
  const y = { field: 'stream', type: 'nominal' as const, title: null, sort: null };
  return {
    $schema: SCHEMA,
    title: 'Turnout (voters / users 18+), with 95% intervals',
    config: CONFIG,
    width: WIDTH,
    height: Math.max(60, 30 * values.length),
    data: { values },
    layer: [
      { mark: 'bar', encoding: { y, x: { field: 'turnout', type: 'quantitative', axis: { format: '%' }, title: 'turnout', scale: { domain: [0, 1] } }, color: { field: 'condition', type: 'nominal', title: 'condition', scale: colourScale(values.map((v) => v.condition)), legend: null } } },
      { mark: { type: 'rule', color: '#333' }, encoding: { y, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
      { mark: { type: 'text', align: 'left', baseline: 'middle', dx: 6, fontSize: 11 }, encoding: { y, x: { field: 'hi', type: 'quantitative' }, text: { field: 'label' } } },
    ],
  };
}

/** The paired effect on the final likelihood by persona attribute, one row per group. */
export function heterogeneityChart(report: Report): TopLevelSpec {
  const values = report.heterogeneity.flatMap((h) =>
    h.likelihood ? [{ row: `${h.attribute}: ${h.group}`, condition: conditionOf(h.stream), kind: h.stream, estimate: h.likelihood.estimate, lo: h.likelihood.ci95[0], hi: h.likelihood.ci95[1] }] : [],
  );
  const streams = [...new Set(report.heterogeneity.map((h) => h.stream))];
  return intervalChart('Paired effect on the final likelihood by persona attribute (95% intervals)', 'difference (condition - control), same users', values, null, streams);
}

/** Untreated users of mixed conditions: paired difference against control by exposure dose. */
export function exposureChart(report: Report): TopLevelSpec {
  const values = report.exposure.flatMap((x) =>
    x.measures.flatMap((m) => m.bins.flatMap((b) => (b.paired ? [{ row: `${m.measure}: ${b.dose}`, condition: conditionOf(x.stream), kind: x.stream, estimate: b.paired.estimate, lo: b.paired.ci95[0], hi: b.paired.ci95[1] }] : []))),
  );
  const streams = report.exposure.map((x) => x.stream);
  const rows = [...new Set(report.exposure.flatMap((x) => x.measures.flatMap((m) => m.bins.map((b) => `${m.measure}: ${b.dose}`))))];
  return intervalChart('Spillover on untreated users by exposure dose (paired against control, 95% intervals)', 'difference in final likelihood (condition - control), same users', values, null, streams.length > 0 ? streams : ['-'], rows);
}

/** Each seed's paired likelihood effect and the pooled one, per condition. */
export function pooledChart(report: Report): TopLevelSpec | null {
  if (!report.pooled) return null;
  const values: Array<Record<string, unknown>> = [];
  for (const e of report.pooled.effects.filter((x) => x.metric === 'likelihood' && x.kind === 'paired')) {
    const condition = conditionOf(e.stream);
    for (const s of e.perSeed) values.push({ row: e.stream, condition, kind: `seed ${s.seed}`, estimate: s.estimate, lo: s.estimate - 1.959963984540054 * s.se, hi: s.estimate + 1.959963984540054 * s.se });
    if (e.pooled) values.push({ row: e.stream, condition, kind: 'pooled', estimate: e.pooled.estimate, lo: e.pooled.ci95[0], hi: e.pooled.ci95[1] });
  }
  const kinds = [...report.pooled.runs.map((r) => `seed ${r.seed}`), 'pooled'];
  return intervalChart('Paired effect on the final likelihood per seed and pooled (95% intervals)', 'difference (condition - control)', values, null, kinds);
}
