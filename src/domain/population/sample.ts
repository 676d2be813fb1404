import { UsageError } from '../../errors.js';
import { rng } from '../rng.js';
import type { ProfileRow, UserFiles } from './types.js';

/**
 * A run's users: n profiles drawn without replacement with the run's seed, keeping only the follow
 * edges (and close friends) among them, as the reference does. Profiles come back in ascending id.
 */
export function sampleUsers(files: UserFiles, n: number, seed: number): UserFiles {
  const total = files.profiles.length;
  if (n > total) throw new UsageError(`--n-users ${n} is larger than the population in ${files.source} (${total} users)`);
  const kept = sampledIds(files.profiles, n, seed);
  const chosen = [...files.profiles].filter((p) => kept.has(p.userId)).sort((a, b) => a.userId - b.userId);
  return {
    profiles: chosen.map((p) => ({ ...p, closeFriends: p.closeFriends.filter((f) => kept.has(f)) })),
    follows: files.follows.filter(([s, t]) => kept.has(s) && kept.has(t)),
    source: files.source,
  };
}

/**
 * The ids sampleUsers draws (all of them when n is the population or more): known before the
 * network is read, so a loader can keep only the edges among them (../../users/load.ts).
 */
export function sampledIds(profiles: readonly ProfileRow[], n: number, seed: number): Set<number> {
  const byId = [...profiles].sort((a, b) => a.userId - b.userId);
  const chosen = n >= byId.length ? byId : rng(seed, 'setup', 0, 0, 'sample-users').sample(byId, n);
  return new Set(chosen.map((p) => p.userId));
}
