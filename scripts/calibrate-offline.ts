/**
 * Runs control, treatment_info_message and treatment_soc_message on the default population with
 * the offline persona model and prints the mean final likelihood and the two effects, to compare
 * with the reference (control 2.516, info +0.011, social +0.104). Used to set OFFLINE_PARAMETERS.
 *
 *   npx tsx scripts/calibrate-offline.ts [--users 2000] [--seeds 1,2,3] [--set key=value ...]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseExperiment } from '../src/domain/config.js';
import { OFFLINE_PARAMETERS, OfflineProvider, type OfflineParameters } from '../src/domain/offline-model.js';
import { EventStore } from '../src/events/store.js';
import { conditionSummaries } from '../src/projections/queries.js';
import { runExperiment } from '../src/sim/engine.js';
import { loadPopulation } from '../src/sim/population.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const users = Number(arg('users', '2000'));
const seeds = arg('seeds', '1,2,3').split(',').map(Number);
const params: OfflineParameters = structuredClone(OFFLINE_PARAMETERS);
process.argv.forEach((a, i) => {
  if (a === '--set') {
    const [key, value] = process.argv[i + 1].split('=');
    (params as unknown as Record<string, number>)[key] = Number(value);
  }
});

const totals = { control: 0, info: 0, social: 0, dist: [0, 0, 0, 0, 0] };
for (const seed of seeds) {
  const dir = mkdtempSync(join(tmpdir(), 'sim-calibrate-'));
  const config = parseExperiment({ n_users: users, seed, run_conditions: ['control', 'treatment_info_message', 'treatment_soc_message'] });
  const store = await EventStore.open(dir);
  const runId = await store.createRun({ seed, config, codeVersion: 'calibrate', createdAt: 'now' });
  await runExperiment({ store, provider: new OfflineProvider(params), config, runId, population: loadPopulation(config) });
  const s = await conditionSummaries(store, runId);
  const by = (c: string) => s.find((x) => x.condition === c)!;
  const rows = await store.db.selectFrom('proj_agents').select(['last_likelihood']).where('stream_id', '=', `run/${runId}/control`).where('last_likelihood', 'is not', null).execute();
  for (const r of rows) totals.dist[r.last_likelihood!] += 1 / rows.length / seeds.length;
  totals.control += by('control').meanFinalLikelihood! / seeds.length;
  totals.info += by('treatment_info_message').likelihoodEffect! / seeds.length;
  totals.social += by('treatment_soc_message').likelihoodEffect! / seeds.length;
  process.stderr.write(`seed ${seed}: control ${by('control').meanFinalLikelihood!.toFixed(3)} info ${by('treatment_info_message').likelihoodEffect!.toFixed(3)} social ${by('treatment_soc_message').likelihoodEffect!.toFixed(3)} turnout ${(100 * by('control').turnout!).toFixed(1)}%\n`);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(
  `mean over seeds ${seeds.join(',')} (${users} users): control ${totals.control.toFixed(3)} (ref 2.516), info ${totals.info >= 0 ? '+' : ''}${totals.info.toFixed(3)} (ref +0.011), social ${totals.social >= 0 ? '+' : ''}${totals.social.toFixed(3)} (ref +0.104); control distribution 0-4: ${totals.dist.map((d) => (100 * d).toFixed(0) + '%').join(' ')}\n`,
);
