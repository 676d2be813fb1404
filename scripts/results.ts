/**
 * `npm run results`: regenerates result_data/ byte for byte: the default experiment on 2,000 users
 * of the default population, seeds 1-5, with the offline persona model (not an LLM), exported in the
 * reference layout (voting, treatment, personas per condition) plus each seed's report.json, and
 * pooled.json: every effect per seed and pooled over the seeds (paired and unpaired, with intervals).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Report } from '../src/report/build.js';
import { poolReports } from '../src/report/pooled.js';
import { pooledEffectsTable, resultsSummaryTable } from '../src/report/summary.js';

/** docs/protocol.md, "The reference's figures": mean final likelihood over the reference's 5 seeds. */
const REFERENCE = { control: 2.516, treatment_info_message: 2.527, treatment_soc_message: 2.62 };
const SUMMARY_HEADING = '## Summary (mean over the 5 seeds)';
const POOLED_HEADING = '## Effects versus control, pooled over the 5 seeds (95% intervals)';

const root = fileURLToPath(new URL('..', import.meta.url));
const target = join(root, 'result_data');
const sim = (args: string[]) => execFileSync(process.execPath, [join(root, 'bin', 'sim.js'), ...args], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, OPENAI_API_KEY: '', SIM_STORE: '' } });

for (const entry of readdirSync(target)) if (entry.startsWith('seed_')) rmSync(join(target, entry), { recursive: true, force: true });
const reports: Report[] = [];
for (const seed of [1, 2, 3, 4, 5]) {
  const work = mkdtempSync(join(tmpdir(), 'sim-results-'));
  try {
    sim(['run', '--provider', 'offline', '--n-users', '2000', '--seed', String(seed), '--out', work]);
    sim(['export', 'csv', '--out', work, '--to', join(work, 'csv')]);
    sim(['report', '--out', work, '--to', join(work, 'report')]);
    const seedDir = join(target, `seed_${seed}`);
    for (const condition of readdirSync(join(work, 'csv')).filter((c) => !c.endsWith('.txt')).sort()) {
      mkdirSync(join(seedDir, condition), { recursive: true });
      for (const kind of ['voting_data', 'treatment_data', 'personas']) {
        copyFileSync(join(work, 'csv', condition, `${condition}_${kind}.csv`), join(seedDir, condition, `${condition}_${kind}.csv`));
      }
    }
    copyFileSync(join(work, 'report', 'report.json'), join(seedDir, 'report.json'));
    reports.push(JSON.parse(readFileSync(join(seedDir, 'report.json'), 'utf8')) as Report);
    process.stderr.write(`seed ${seed} done\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// The seeds are independent replications of one config: their effects pool (src/report/pooled.ts).
const pooled = poolReports(reports);
writeFileSync(join(target, 'pooled.json'), `${JSON.stringify(pooled, null, 2)}\n`);

// The README's summary tables are rewritten from these reports, so they always say what the files hold.
const readme = join(target, 'README.md');
const text = readFileSync(readme, 'utf8');
const at = text.indexOf(SUMMARY_HEADING);
if (at < 0) throw new Error(`${readme}: no "${SUMMARY_HEADING}" heading to write the summary under`);
writeFileSync(
  readme,
  `${text.slice(0, at)}${SUMMARY_HEADING}\n\n${resultsSummaryTable(reports, REFERENCE)}\n${POOLED_HEADING}\n\n${pooledEffectsTable(pooled)}`,
);
