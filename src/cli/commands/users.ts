import type { Command } from 'commander';
import { generateUsers, usersStats } from '../../api/users.js';
import { integerFlag } from '../options.js';

export function registerUsers(program: Command): void {
  const users = program.command('users').description('generate and inspect populations (profiles.csv + network.csv)');
  users
    .command('generate')
    .description('generate a census-grounded population with a Twitter-like follower network')
    .requiredOption('--n <n>', 'number of users', integerFlag('--n', 2))
    .option('--seed <n>', 'seed', integerFlag('--seed'), 1)
    .requiredOption('--out <dir>', 'folder to write profiles.csv and network.csv into')
    .option('--mean-out-degree <k>', 'target mean number of users each user follows', integerFlag('--mean-out-degree', 1), 20)
    .option('--force', 'replace the profiles.csv and network.csv already in --out')
    .action((opts: { n: number; seed: number; out: string; meanOutDegree: number; force?: boolean }) => {
      const written = generateUsers(opts);
      process.stdout.write(`wrote ${written.users} users and ${written.follows} follows to ${opts.out} in ${written.seconds.toFixed(1)}s\n`);
    });
  users
    .command('stats')
    .description('print the statistics of a population: degrees, reciprocity, clustering, homophily, demographics')
    .argument('<dir>', 'folder with profiles.csv and network.csv')
    .option('--json', 'print JSON')
    .action((dir: string, opts: { json?: boolean }) => {
      const s = usersStats(dir);
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
