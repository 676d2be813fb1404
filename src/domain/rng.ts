
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
  return new AleaStream(`${seed}|${stage}|${round}|${agent}|${purpose}`);
}

export function fromPrng(prng: () => number): Rng {
  return new PrngStream(prng);
}

/** A class rather than closures: several streams are made per agent turn, and each closure costs. */
abstract class Stream implements Rng {
  abstract next(): number;

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
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

class PrngStream extends Stream {
  constructor(private readonly prng: () => number) {
    super();
  }

  next(): number {
    return this.prng();
  }
}

/*
 * Baagoe's Alea generator, seeded from a string, exactly as the seedrandom package's `alea` (which
 * this project used before, so every draw, and every recorded run, stays the same; rng.test.ts
 * compares the two): the same arithmetic, without the closures seedrandom builds for each
 * generator (four streams are made per agent turn). Mash's state is a module variable: seeding is
 * synchronous.
 */
let mashN = 0;

function mash(data: string): number {
  let n = mashN;
  for (let i = 0; i < data.length; i++) {
    n += data.charCodeAt(i);
    let h = 0.02519603282416938 * n;
    n = h >>> 0;
    h -= n;
    h *= n;
    n = h >>> 0;
    h -= n;
    n += h * 0x100000000; // 2^32
  }
  mashN = n;
  return (n >>> 0) * 2.3283064365386963e-10; // 2^-32
}

// Every generator's seeding starts by mashing three spaces from the same start: done once.
mashN = 0xefc8249d;
const SPACE0 = mash(' ');
const SPACE1 = mash(' ');
const SPACE2 = mash(' ');
const MASH_AFTER_SPACES = mashN;

class AleaStream extends Stream {
  private s0: number;
  private s1: number;
  private s2: number;
  private c = 1;

  constructor(seed: string) {
    super();
    mashN = MASH_AFTER_SPACES;
    let s0 = SPACE0 - mash(seed);
    if (s0 < 0) s0 += 1;
    let s1 = SPACE1 - mash(seed);
    if (s1 < 0) s1 += 1;
    let s2 = SPACE2 - mash(seed);
    if (s2 < 0) s2 += 1;
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
  }

  next(): number {
    const t = 2091639 * this.s0 + this.c * 2.3283064365386963e-10; // 2^-32
    this.s0 = this.s1;
    this.s1 = this.s2;
    return (this.s2 = t - (this.c = t | 0));
  }
}
