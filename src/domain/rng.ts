import seedrandom from 'seedrandom';

/**
 * Every random draw in the simulator comes from a stream named by (seed, stage, round, agent,
 * purpose). A stream's values depend only on its name, never on how many draws other agents made
 * or in which order agents finished, so results do not depend on completion order.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [lo, hi], both ends included. */
  int(lo: number, hi: number): number;
  /** One element chosen uniformly; throws on an empty array. */
  pick<T>(items: readonly T[]): T;
  /** A new array with the items in random order (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[];
  /** k distinct items chosen uniformly (order random); all of them if k >= length. */
  sample<T>(items: readonly T[], k: number): T[];
}

export type StreamName = readonly [seed: number, stage: string, round: number, agent: number, purpose: string];

export function rng(seed: number, stage: string, round: number, agent: number, purpose: string): Rng {
  return fromPrng(seedrandom.alea(`${seed}|${stage}|${round}|${agent}|${purpose}`));
}

export function fromPrng(prng: () => number): Rng {
  const next = () => prng();
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  return {
    next,
    int,
    pick(items) {
      if (items.length === 0) throw new Error('rng.pick: empty array');
      return items[int(0, items.length - 1)];
    },
    shuffle(items) {
      const out = items.slice();
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(0, i);
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
    sample(items, k) {
      const out = items.slice();
      const n = Math.min(Math.max(k, 0), out.length);
      // Partial Fisher-Yates: only the first n places are drawn.
      for (let i = 0; i < n; i++) {
        const j = int(i, out.length - 1);
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out.slice(0, n);
    },
  };
}
