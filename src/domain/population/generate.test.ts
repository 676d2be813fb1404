import { describe, expect, it } from 'vitest';
import { generatePopulation, INTERESTS, STANCES } from './generate.js';
import { generateNetwork } from './network.js';
import { populationStats } from './stats.js';
import { rng } from '../rng.js';

describe('population generator', () => {
  const pop = generatePopulation({ n: 1500, seed: 7 });

  it('is reproducible and changes with the seed', () => {
    expect(generatePopulation({ n: 200, seed: 7 })).toEqual(generatePopulation({ n: 200, seed: 7 }));
    expect(generatePopulation({ n: 200, seed: 8 }).profiles).not.toEqual(generatePopulation({ n: 200, seed: 7 }).profiles);
  });

  it('gives every user valid columns: ages 13+, 2-4 known interests, a known stance, minors as students', () => {
    for (const p of pop.profiles) {
      expect(p.age).toBeGreaterThanOrEqual(13);
      expect(p.interests.length).toBeGreaterThanOrEqual(2);
      expect(p.interests.length).toBeLessThanOrEqual(4);
      for (const i of p.interests) expect(INTERESTS).toContain(i);
      expect(STANCES).toContain(p.politicalStance);
      if (p.age < 18) expect(p.occupation).toBe('Student');
      expect(p.publicProfile).toContain(String(p.age));
    }
  });

  it('draws close friends only among mutual follows', () => {
    const edges = new Set(pop.follows.map(([s, t]) => `${s}>${t}`));
    for (const p of pop.profiles) for (const f of p.closeFriends) expect(edges.has(`${p.userId}>${f}`) && edges.has(`${f}>${p.userId}`)).toBe(true);
  });

  it('follows education given age: the young hold fewer degrees than the 35-54', () => {
    const degree = (lo: number, hi: number) => {
      const group = pop.profiles.filter((p) => p.age >= lo && p.age <= hi);
      return group.filter((p) => ['Bachelors', 'Masters', 'Doctorate', 'Prof-school'].includes(p.education)).length / group.length;
    };
    expect(degree(18, 22)).toBeLessThan(degree(35, 54));
  });
});

describe('network generator', () => {
  it('has no self-loops or duplicate edges, and homophily above chance', () => {
    const n = 1000;
    const sides = Array.from({ length: n }, (_, i) => (i % 3) - 1);
    const edges = generateNetwork(n, sides, rng(1, 't', 0, 0, 'net'));
    expect(edges.every(([s, t]) => s !== t)).toBe(true);
    expect(new Set(edges.map(([s, t]) => `${s}>${t}`)).size).toBe(edges.length);
    const stats = populationStats({
      profiles: sides.map((side, id) => ({ userId: id, age: 30, politicalStance: side === -1 ? 'liberal' : side === 1 ? 'conservative' : 'moderate' }) as never),
      follows: edges,
      source: 't',
    });
    expect(stats.sameSideShare).toBeGreaterThan(stats.sameSideExpected + 0.1);
  });

  it('reaches the requested mean out-degree', () => {
    const edges = generateNetwork(2000, new Array(2000).fill(0), rng(2, 't', 0, 0, 'net'), { meanOutDegree: 10 });
    expect(edges.length / 2000).toBeGreaterThan(8.5);
    expect(edges.length / 2000).toBeLessThan(11.5);
  });
});
