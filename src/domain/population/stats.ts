import { rng } from '../rng.js';
import { stanceSide } from './generate.js';
import type { UserFiles } from './types.js';

/** The figures that say whether a follower graph looks like Twitter's, and who is in it. */
export interface PopulationStats {
  users: number;
  edges: number;
  meanOutDegree: number;
  maxInDegree: number;
  /** Share of all follows received by the top 1% most-followed users. */
  top1PercentInShare: number;
  /** Share of users with in-degree above 10x the mean (a heavy tail has many). */
  over10xMeanInDegree: number;
  reciprocity: number;
  /** Mean local clustering coefficient (undirected view), over a sample of users. */
  clustering: number;
  clusteringSample: number;
  /** Share of follows between users of the same political side, among liberal/conservative pairs. */
  sameSideShare: number;
  /** The same share if follows ignored politics. */
  sameSideExpected: number;
  minorShare: number;
  marginals: Record<string, Record<string, number>>;
}

export function populationStats(files: UserFiles, clusteringSample = 2000): PopulationStats {
  const ids = files.profiles.map((p) => p.userId);
  const index = new Map(ids.map((id, i) => [id, i]));
  const n = ids.length;
  const inDegree = new Int32Array(n);
  const out: number[][] = Array.from({ length: n }, () => []);
  const edgeSet = new Set<string>();
  for (const [s, t] of files.follows) {
    out[index.get(s)!].push(index.get(t)!);
    inDegree[index.get(t)!] += 1;
    edgeSet.add(`${s}>${t}`);
  }
  const edges = files.follows.length;
  let reciprocated = 0;
  for (const [s, t] of files.follows) if (edgeSet.has(`${t}>${s}`)) reciprocated += 1;

  const sortedIn = [...inDegree].sort((a, b) => b - a);
  const top = Math.max(1, Math.floor(n / 100));
  const topSum = sortedIn.slice(0, top).reduce((a, b) => a + b, 0);
  const mean = edges / Math.max(1, n);

  const sides = files.profiles.map((p) => stanceSide(p.politicalStance));
  let sideEdges = 0;
  let same = 0;
  for (const [s, t] of files.follows) {
    const a = sides[index.get(s)!];
    const b = sides[index.get(t)!];
    if (a !== 0 && b !== 0) {
      sideEdges += 1;
      if (a === b) same += 1;
    }
  }
  const lib = sides.filter((x) => x === -1).length;
  const con = sides.filter((x) => x === 1).length;
  const expected = lib + con > 0 ? (lib * lib + con * con) / ((lib + con) * (lib + con)) : 0;

  // Local clustering in the undirected view, on a seeded sample of users with 2+ neighbours.
  const neighbours: Array<Set<number>> = Array.from({ length: n }, () => new Set());
  out.forEach((targets, s) => targets.forEach((t) => (neighbours[s].add(t), neighbours[t].add(s))));
  const candidates = neighbours.map((set, i) => (set.size >= 2 ? i : -1)).filter((i) => i >= 0);
  const sample = rng(0, 'stats', 0, 0, 'clustering').sample(candidates, clusteringSample);
  let clustering = 0;
  for (const v of sample) {
    const nb = [...neighbours[v]];
    let links = 0;
    for (let i = 0; i < nb.length; i++) for (let j = i + 1; j < nb.length; j++) if (neighbours[nb[i]].has(nb[j])) links += 1;
    clustering += (2 * links) / (nb.length * (nb.length - 1));
  }

  const marginal = (pick: (p: UserFiles['profiles'][number]) => string) => {
    const counts: Record<string, number> = {};
    for (const p of files.profiles) counts[pick(p)] = (counts[pick(p)] ?? 0) + 1;
    return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / n]));
  };

  return {
    users: n,
    edges,
    meanOutDegree: mean,
    maxInDegree: sortedIn[0] ?? 0,
    top1PercentInShare: edges > 0 ? topSum / edges : 0,
    over10xMeanInDegree: n > 0 ? sortedIn.filter((d) => d > 10 * mean).length / n : 0,
    reciprocity: edges > 0 ? reciprocated / edges : 0,
    clustering: sample.length > 0 ? clustering / sample.length : 0,
    clusteringSample: sample.length,
    sameSideShare: sideEdges > 0 ? same / sideEdges : 0,
    sameSideExpected: expected,
    minorShare: files.profiles.filter((p) => p.age < 18).length / Math.max(1, n),
    marginals: {
      political_stance: marginal((p) => p.politicalStance),
      education: marginal((p) => p.education),
      sex: marginal((p) => p.sex),
      race: marginal((p) => p.race),
    },
  };
}
