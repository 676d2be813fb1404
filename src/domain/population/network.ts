import type { Rng } from '../rng.js';

/**
 * A Twitter-like follower graph: directed preferential attachment (heavy-tailed in-degree),
 * triadic closure (follow whom your followees follow: clustering), political homophily (a follow
 * across the liberal/conservative divide is often declined) and follow-backs (reciprocity).
 * Users arrive in a random order and follow users already present; typed arrays keep a million
 * users within memory.
 */
export interface NetworkOptions {
  /** Target mean out-degree, follow-backs included. */
  meanOutDegree: number;
  /** Probability that a followed user follows back. */
  followBack: number;
  /** Probability that a follow is chosen among the followees of a followee. */
  triadicClosure: number;
  /** Probability that a follow across the political divide is kept. */
  crossSideAcceptance: number;
}

const DEFAULT_NETWORK: NetworkOptions = { meanOutDegree: 20, followBack: 0.18, triadicClosure: 0.45, crossSideAcceptance: 0.35 };

export function generateNetwork(n: number, sides: readonly number[], r: Rng, options: Partial<NetworkOptions> = {}): Array<[number, number]> {
  const o = { ...DEFAULT_NETWORK, ...options };
  const baseMean = o.meanOutDegree / (1 + o.followBack);
  const order = r.shuffle(Array.from({ length: n }, (_, i) => i));
  // Followees per user (ascending insertion), and the attachment pool: every user once on arrival
  // and once more per follower gained, so a draw is proportional to in-degree + 1.
  const following: number[][] = Array.from({ length: n }, () => []);
  const followingSet: Array<Set<number> | null> = new Array(n).fill(null);
  let pool = new Int32Array(Math.max(16, Math.ceil(n * (baseMean * (1 + o.followBack) + 2))));
  let poolSize = 0;
  const push = (u: number) => {
    if (poolSize === pool.length) {
      const bigger = new Int32Array(pool.length * 2);
      bigger.set(pool);
      pool = bigger;
    }
    pool[poolSize++] = u;
  };
  const follows = (a: number, b: number) => followingSet[a]?.has(b) ?? false;
  const addEdge = (a: number, b: number) => {
    following[a].push(b);
    (followingSet[a] ??= new Set()).add(b);
    push(b);
  };

  for (let t = 0; t < n; t++) {
    const v = order[t];
    const k = Math.min(t, outDegree(baseMean, r));
    let made = 0;
    for (let attempt = 0; made < k && attempt < 12 * k; attempt++) {
      let u: number;
      const mine = following[v];
      if (mine.length > 0 && r.next() < o.triadicClosure) {
        const w = mine[r.int(0, mine.length - 1)];
        const theirs = following[w];
        if (theirs.length === 0) continue;
        u = theirs[r.int(0, theirs.length - 1)];
      } else {
        u = pool[r.int(0, poolSize - 1)];
      }
      if (u === v || follows(v, u)) continue;
      if (sides[u] * sides[v] === -1 && r.next() >= o.crossSideAcceptance) continue;
      addEdge(v, u);
      made += 1;
      if (!follows(u, v) && r.next() < o.followBack) addEdge(u, v);
    }
    push(v);
  }

  const edges: Array<[number, number]> = [];
  for (let s = 0; s < n; s++) for (const t of [...following[s]].sort((a, b) => a - b)) edges.push([s, t]);
  return edges;
}

/** A skewed out-degree (log-normal, at least 1) with the given mean: most follow few, some many. */
function outDegree(mean: number, r: Rng): number {
  const sigma = 0.9;
  const mu = Math.log(mean) - (sigma * sigma) / 2;
  const normal = Math.sqrt(-2 * Math.log(1 - r.next())) * Math.cos(2 * Math.PI * r.next());
  return Math.max(1, Math.min(5000, Math.round(Math.exp(mu + sigma * normal))));
}
