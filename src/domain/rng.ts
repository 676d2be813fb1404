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

export function rng(seed: number, stage: string, round: number, agent: number, purpose: string): Rng {
  return fromPrng(seedrandom.alea(`${seed}|${stage}|${round}|${agent}|${purpose}`));
}

export function fromPrng(prng: () => number): Rng {
  return new Stream(prng);
}

/** A class rather than closures: several streams are made per agent turn, and each closure costs. */
class Stream implements Rng {
  constructor(private readonly prng: () => number) {}

  next(): number {
    return this.prng();
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.prng() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('rng.pick: empty array');
    return items[this.int(0, items.length - 1)];
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }

  sample<T>(items: readonly T[], k: number): T[] {
    const out = items.slice();
    const n = Math.min(Math.max(k, 0), out.length);
    // Partial Fisher-Yates: only the first n places are drawn.
    for (let i = 0; i < n; i++) {
      const j = this.int(i, out.length - 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out.slice(0, n);
  }
}
