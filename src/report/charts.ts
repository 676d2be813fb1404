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
/** Stream names such as "experiment_info_message/2" are the labels: show them whole. */
const CONFIG = { axis: { labelLimit: 0 }, legend: { labelLimit: 0 } };

export function likelihoodChart(report: Report): TopLevelSpec {
  const values = Object.entries(report.likelihoodByRound).flatMap(([stream, points]) =>
    points.filter((p) => p.mean !== null).map((p) => ({ series: stream, source: 'this run', round: p.round, mean: p.mean })),
  );
  for (const [condition, points] of Object.entries(report.compare?.likelihoodByRound ?? {})) {
    for (const p of points) if (p.mean !== null) values.push({ series: `reference: ${condition}`, source: 'reference', round: p.round, mean: p.mean });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Mean voting likelihood by round (latest answer of each user who answered so far)',
    config: CONFIG,
    width: WIDTH,
    height: 300,
    data: { values },
    mark: { type: 'line', point: false },
    encoding: {
      x: { field: 'round', type: 'quantitative', title: 'round (warmup <= 0, election day = last)' },
      y: { field: 'mean', type: 'quantitative', title: 'mean likelihood (0-4)', scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
      strokeDash: { field: 'source', type: 'nominal', title: null, scale: { domain: ['this run', 'reference'], range: [[1, 0], [6, 4]] } },
    },
  };
}

export function effectChart(report: Report): TopLevelSpec {
  const values = report.effects.flatMap((e) =>
    e.likelihood ? [{ condition: e.stream, estimate: e.likelihood.estimate, lo: e.likelihood.ci95[0], hi: e.likelihood.ci95[1] }] : [],
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Effect on the mean final likelihood versus control, with 95% intervals',
    config: CONFIG,
    width: WIDTH,
    height: Math.max(60, 40 * values.length),
    data: { values },
    layer: [
      { mark: { type: 'rule' }, encoding: { y: { field: 'condition', type: 'nominal', title: null, sort: null }, x: { field: 'lo', type: 'quantitative', title: 'difference in means' }, x2: { field: 'hi' } } },
      { mark: { type: 'point', filled: true, size: 80 }, encoding: { y: { field: 'condition', type: 'nominal', sort: null }, x: { field: 'estimate', type: 'quantitative' } } },
      { mark: { type: 'rule', strokeDash: [4, 4] }, data: { values: [{ zero: 0 }] }, encoding: { x: { field: 'zero', type: 'quantitative' } } },
    ],
  };
}

export function turnoutChart(report: Report): TopLevelSpec {
  const values = report.conditions.flatMap((c) => (c.turnout === null ? [] : [{ condition: c.stream, turnout: c.turnout }]));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Turnout (voters / users 18+)',
    config: CONFIG,
    width: WIDTH,
    height: Math.max(60, 30 * values.length),
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'condition', type: 'nominal', title: null, sort: null },
      x: { field: 'turnout', type: 'quantitative', axis: { format: '%' }, title: 'turnout' },
    },
  };
}
