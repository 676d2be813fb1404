import type { Command } from 'commander';
import { calibrateOffline, type CalibrateCommandOptions, type CalibrateProgress } from '../../api/calibrate.js';
import type { FitComparison } from '../../calibration/fit.js';
import { printTable } from '../table.js';
import { notice } from '../notice.js';

type CalibrateFlags = CalibrateCommandOptions;

export function registerCalibrate(program: Command): void {
  program
    .command('calibrate')
    .description("fit the offline model's likelihood parameters to a folder in the reference's layout (the reference's data, or `sim export csv` of your own LLM pilot) and write a parameter file for `sim run --offline-params`")
    .requiredOption('--to <dir>', 'the folder to fit: seed_<n>/<condition>/ folders, or the <condition>/ folders of one export (control, treatment_info_message, treatment_soc_message)')
    .option('--seeds <list>', 'which seed_<n> folders to fit, e.g. 1,2,3 (default: all)')
    .option('--out <file>', 'parameter file to write', 'offline-params.json')
    .option('--n-users <n>', 'users per simulated seed', '2000')
    .option('--sim-seeds <list>', 'simulation seeds (default: 1001 up, two per target seed and at least six: never the seeds of result_data)')
    .option('--start <file>', 'a parameter file to start from (default: the built-in parameters)')
    .option('--users-dir <dir>', 'population folder (default: the bundled one)')
    .action(async (flags: CalibrateFlags) => {
      const startedAt = Date.now();
      const { file, seconds } = await calibrateOffline(flags, { notice: (line) => notice(line), onProgress: progressPrinter(startedAt) });
      printComparison(file.fit.comparison);
      process.stdout.write(`parameters: ${Object.entries(file.parameters).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
      process.stdout.write(`wrote ${flags.out} (${file.fit.evaluations} evaluations, ${Math.round(seconds)} s); use it with \`sim run --offline-params ${flags.out}\`\n`);
    });
}

function progressPrinter(startedAt: number): (p: CalibrateProgress) => void {
  // Fitting reports at most every 2 s, but always once per pass: a fast fit still says it happened.
  let lastFit = 0;
  let lastFitPass = 0;
  return (p) => {
    const now = Date.now();
    if (p.phase === 'record' && p.engine.stage !== 'election' && p.engine.roundsDone !== p.engine.roundsTotal) return;
    if (p.phase === 'fit') {
      if (p.pass === lastFitPass && now - lastFit < 2000) return;
      lastFit = now;
      lastFitPass = p.pass;
    }
    const elapsed = `${Math.round((now - startedAt) / 1000)} s`;
    process.stderr.write(
      p.phase === 'record'
        ? `pass ${p.pass}: recording seed ${p.seed}: ${p.engine.stream} ${p.engine.stage === 'election' ? 'election day' : 'done'} (${elapsed})\n`
        : `pass ${p.pass}: fitting, start ${p.start + 1}, restart ${p.restart + 1}, ${p.evaluations} evaluations, loss ${p.loss.toFixed(2)} (${elapsed})\n`,
    );
  };
}

function printComparison(rows: readonly FitComparison[]): void {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
  printTable(
    ['condition', 'first answers TV', 'final answers TV', 'change rate target / fitted', 'mean final target / fitted', 'effect target / fitted', 'curve max gap'],
    rows.map((r) => [
      r.condition,
      r.firstTv.toFixed(3),
      r.finalTv.toFixed(3),
      `${pct(r.changeRate.target)} / ${pct(r.changeRate.fitted)}`,
      `${r.meanFinal.target.toFixed(3)} / ${r.meanFinal.fitted.toFixed(3)}`,
      r.effect ? `${signed(r.effect.target)} / ${signed(r.effect.fitted)}` : '-',
      r.curveMaxGap.toFixed(3),
    ]),
  );
}
