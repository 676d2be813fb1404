import { UsageError } from '../../errors.js';
import { rng } from '../rng.js';
import type { UserFiles } from './types.js';

/**
 * A run's users: n profiles drawn without replacement with the run's seed, keeping only the follow
 * edges (and close friends) among them, as the reference does. Profiles come back in ascending id.
 */
export function sampleUsers(files: UserFiles, n: number, seed: number): UserFiles {
  const total = files.profiles.length;
  if (n > total) throw new UsageError(`--n-users ${n} is larger than the population in ${files.source} (${total} users)`);
  const byId = [...files.profiles].sort((a, b) => a.userId - b.userId);
  const chosen = n === total ? byId : rng(seed, 'setup', 0, 0, 'sample-users').sample(byId, n).sort((a, b) => a.userId - b.userId);
  const kept = new Set(chosen.map((p) => p.userId));
  return {
    profiles: chosen.map((p) => ({ ...p, closeFriends: p.closeFriends.filter((f) => kept.has(f)) })),
    follows: files.follows.filter(([s, t]) => kept.has(s) && kept.has(t)),
    source: files.source,
  };
}
