import type { Command } from 'commander';
import { generatePopulation } from '../../domain/population/generate.js';
import { populationStats } from '../../domain/population/stats.js';
import { loadUsersDir } from '../../users/load.js';
import { writeUsersDir } from '../../users/write.js';
import { checkFolderFlag } from '../run-checks.js';
import { checkFolderToWriteInto } from '../../write-whole.js';
import { integerFlag } from './run.js';

export function registerUsers(program: Command): void {
  const users = program.command('users').description('generate and inspect populations (profiles.csv + network.csv)');
  users
    .command('generate')
    .description('generate a census-grounded population with a Twitter-like follower network')
    .requiredOption('--n <n>', 'number of users', integerFlag('--n', 2))
    .option('--seed <n>', 'seed', integerFlag('--seed'), 1)
    .requiredOption('--out <dir>', 'folder to write profiles.csv and network.csv into')
    .option('--mean-out-degree <k>', 'target mean number of users each user follows', integerFlag('--mean-out-degree', 1), 20)
    .action((opts: { n: number; seed: number; out: string; meanOutDegree: number }) => {
      const started = Date.now();
      checkFolderToWriteInto(opts.out, { flag: '--out', path: opts.out });
      const files = generatePopulation({ n: opts.n, seed: opts.seed, meanOutDegree: opts.meanOutDegree });
      writeUsersDir(opts.out, files);
      process.stdout.write(`wrote ${files.profiles.length} users and ${files.follows.length} follows to ${opts.out} in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
    });
  users
    .command('stats')
    .description('print the statistics of a population: degrees, reciprocity, clustering, homophily, demographics')
    .argument('<dir>', 'folder with profiles.csv and network.csv')
    .option('--json', 'print JSON')
    .action((dir: string, opts: { json?: boolean }) => {
      checkFolderFlag('users stats', dir, true, 'profiles.csv and network.csv');
      const s = populationStats(loadUsersDir(dir));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
        return;
      }
      const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
      const lines = [
        `users                      ${s.users}`,
        `follows                    ${s.edges}`,
        `mean out-degree            ${s.meanOutDegree.toFixed(2)}`,
        `in-degree: max             ${s.maxInDegree}`,
        `in-degree: top 1% share    ${pct(s.top1PercentInShare)} of all follows (heavy tail)`,
        `in-degree > 10x mean       ${pct(s.over10xMeanInDegree)} of users`,
        `reciprocity                ${pct(s.reciprocity)} of follows are mutual`,
        `clustering (sampled)       ${s.clustering.toFixed(3)} mean local coefficient over ${s.clusteringSample} users`,
        `political homophily        ${pct(s.sameSideShare)} of liberal/conservative follows stay on one side (${pct(s.sameSideExpected)} by chance)`,
        `under 18                   ${pct(s.minorShare)}`,
      ];
      for (const [name, marginal] of Object.entries(s.marginals)) {
        lines.push(`${name.padEnd(26)} ${Object.entries(marginal).slice(0, 6).map(([k, v]) => `${k} ${pct(v)}`).join(', ')}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
