import { generatePopulation } from '../domain/population/generate.js';
import { populationStats, type PopulationStats } from '../domain/population/stats.js';
import { loadUsersDir } from '../users/load.js';
import { writeUsersDir } from '../users/write.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { checkFolderToWriteInto } from '../write-whole.js';
import { estimatePopulationMemory } from '../domain/memory.js';
import { checkFolderFlag, checkMemory } from './run-checks.js';

export interface GenerateUsersOptions {
  n: number;
  seed: number;
  out: string;
  meanOutDegree: number;
  /** Replace the profiles.csv and network.csv already in `out`. */
  force?: boolean;
}

/** `sim users generate`: a census-grounded population with a follower network, written to a folder. */
export function generateUsers(options: GenerateUsersOptions): { users: number; follows: number; seconds: number } {
  const started = Date.now();
  const memory = estimatePopulationMemory(options.n, options.meanOutDegree);
  checkMemory(memory.bytes, `--n ${options.n}`, 'generating the population would need', memory.parts[0].detail);
  checkFolderToWriteInto(options.out, { flag: '--out', path: options.out });
  const existing = ['profiles.csv', 'network.csv'].filter((file) => existsSync(join(options.out, file)));
  if (existing.length > 0 && !options.force) {
    throw new UsageError(`--out ${options.out}: already holds a population (${existing.join(', ')}); use --force to replace it`, { file: options.out });
  }
  const files = generatePopulation({ n: options.n, seed: options.seed, meanOutDegree: options.meanOutDegree });
  writeUsersDir(options.out, files);
  return { users: files.profiles.length, follows: files.follows.length, seconds: (Date.now() - started) / 1000 };
}

/** `sim users stats`: degrees, reciprocity, clustering, homophily and demographics of a population folder. */
export function usersStats(dir: string): PopulationStats {
  checkFolderFlag('users stats', dir, true, 'profiles.csv and network.csv');
  return populationStats(loadUsersDir(dir));
}
