/**
 * Out-of-sample check of the offline model against a folder in the reference's layout: runs the
 * engine (warmup, control, treatment_info_message, treatment_soc_message) on simulation seeds the
 * fit never saw and prints, per condition, the first and final answer distributions, the change
 * rate, the mean-by-round curve's largest gap, the mean final likelihood and the effects, next to
 * the reference's (the docs/offline-model.md table). Fitting itself is `sim calibrate`.
 *
 *   npx tsx scripts/calibrate-offline.ts [--params FILE] [--users 2000] [--seeds 4,5]
 *        [--reference DIR] [--reference-seeds 4,5] [--old DIR] [--model DIR]
 *
 * --old DIR: also prints the shapes of a folder of earlier results (e.g. result_data before a change).
 * --model DIR: reads the model's shapes from a folder of results (e.g. result_data) instead of running.
 */
import { readParamsFile } from '../src/calibration/params-file.js';
import { averageShapes, totalVariation, type ConditionShape } from '../src/calibration/shape.js';
import { recordSchedule } from '../src/calibration/surrogate.js';
import { FIT_CONDITIONS, readTargets } from '../src/calibration/targets.js';
import { CURVE_ROUNDS } from '../src/calibration/fit.js';
import { DEFAULT_LIKELIHOOD } from '../src/domain/offline-model.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const list = (s: string) => s.split(',').map(Number);
const users = Number(arg('users', '2000'));
const seeds = list(arg('seeds', '4,5'));
const params = process.argv.includes('--params') ? readParamsFile(arg('params', ''), '--params') : DEFAULT_LIKELIHOOD;
const reference = readTargets(arg('reference', '../shared/reference/llm-sociopol'), list(arg('reference-seeds', '4,5')));
const old = process.argv.includes('--old') ? readTargets(arg('old', ''), null) : null;

const model: Record<string, ConditionShape[]> = Object.fromEntries(FIT_CONDITIONS.map((c) => [c, []]));
const modelDir = process.argv.includes('--model') ? readTargets(arg('model', ''), null) : null;
if (modelDir) for (const c of FIT_CONDITIONS) model[c].push(...modelDir.conditions[c].perSeed);
for (const seed of modelDir ? [] : seeds) {
  const s = await recordSchedule({ nUsers: users, seed, likelihood: params });
  for (const c of FIT_CONDITIONS) model[c].push(s.observed[c]);
  process.stderr.write(`seed ${seed} done\n`);
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
const curveGap = (m: ConditionShape, t: ConditionShape) => {
  let gap = 0;
  reference.rounds.forEach((r, j) => {
    if (r >= CURVE_ROUNDS.from && r <= CURVE_ROUNDS.to && m.byRound[j] !== null && t.byRound[j] !== null) gap = Math.max(gap, Math.abs(m.byRound[j]! - t.byRound[j]!));
  });
  return gap;
};
const spread = (xs: number[]) => `${Math.min(...xs).toFixed(3)}..${Math.max(...xs).toFixed(3)}`;

console.log(`| | first 0 / 1 / 2 / 3 / 4 | final 0 / 1 / 2 / 3 / 4 | TV first | TV final | changes | curve max gap (${CURVE_ROUNDS.from}..${CURVE_ROUNDS.to}) | mean final (per-seed range) | effect (per-seed range) |`);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
const rows: Array<[string, Record<string, ConditionShape[]>]> = [['reference', Object.fromEntries(FIT_CONDITIONS.map((c) => [c, reference.conditions[c].perSeed]))]];
if (old) rows.push(['old model', Object.fromEntries(FIT_CONDITIONS.map((c) => [c, old.conditions[c].perSeed]))]);
rows.push(['new model', model]);
for (const [label, shapes] of rows) {
  for (const c of FIT_CONDITIONS) {
    const m = averageShapes(shapes[c]);
    const t = reference.conditions[c].mean;
    const effects = shapes[c].map((s, i) => s.meanFinal - shapes.control[i].meanFinal);
    console.log(
      `| ${label} ${c} | ${m.first.map(pct).join(' / ')} | ${m.final.map(pct).join(' / ')} | ${totalVariation(m.first, t.first).toFixed(3)} | ${totalVariation(m.final, t.final).toFixed(3)} | ${(100 * m.changeRate).toFixed(2)}% | ${curveGap(m, t).toFixed(3)} | ${m.meanFinal.toFixed(3)} (${spread(shapes[c].map((s) => s.meanFinal))}) | ${c === 'control' ? '-' : `${signed(effects.reduce((a, b) => a + b, 0) / effects.length)} (${spread(effects)})`} |`,
    );
  }
}
const curve = (s: ConditionShape) => [-10, 0, 1, 5, 10, 20, 30].map((r) => s.byRound[reference.rounds.indexOf(r)]?.toFixed(3) ?? '-').join(' / ');
console.log('\nmean by round (-10 / 0 / 1 / 5 / 10 / 20 / 30):');
for (const c of FIT_CONDITIONS) console.log(`  ${c}: reference ${curve(reference.conditions[c].mean)}; model ${curve(averageShapes(model[c]))}`);
