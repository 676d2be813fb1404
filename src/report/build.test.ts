import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseExperiment } from '../domain/config.js';
import type { Persona } from '../domain/persona.js';
import type { ConditionData, RunData } from '../export/run-data.js';
import type { PersonaCounts, RoundRow } from '../export/tables.js';
import { buildReport, finalLikelihoods, likelihoodByRound, readReferenceFolder } from './build.js';

/**
 * A six-user run worked by hand. User 6 is 15 (never eligible). Warmup statements are shared by
 * every condition; final likelihoods: control u1 3, u2 1, u4 4, u5 2 (u3 never states) -> mean 2.5;
 * experiment_soc_message u1 4, u2 2, u3 3, u4 4 (u5 states nothing there) -> mean 3.25.
 */
const persona = (id: number, age: number): Persona => ({
  id, age, sex: 'Male', race: 'White', education: 'HS-grad', occupation: 'Sales', workclass: 'Private', maritalStatus: 'Never-married',
  relationship: 'Not-in-family', nativeCountry: 'United-States', hoursPerWeek: 40, politicalStance: 'Moderate', interests: ['Politics', 'Sports'],
  closeFriends: [], publicProfile: '', workSchedule: 'full-time standard', tier: 'low', model: 'm',
});
const users = [1, 2, 3, 4, 5, 6];
const rounds = Array.from({ length: 46 }, (_, i) => i - 15);
const said = (agentId: number, round: number, likelihood: number): RoundRow => ({ agentId, round, active: 1, likelihood, engagement: 0 });
const warmup = [said(1, -3, 2), said(4, -1, 4)];
const counts = (voted: Record<number, number | null>, treated: number[] = []) =>
  new Map<number, PersonaCounts>(users.map((u) => [u, { following: 0, followers: 0, liked: 0, replied: 0, seen: 0, treated: treated.includes(u) ? 1 : 0, voted: voted[u] ?? null }]));
const condition = (stream: string, rows: RoundRow[], c: Map<number, PersonaCounts>, treated: number[] = []): ConditionData => ({
  stream,
  condition: stream.split('/')[0],
  treatmentSeed: Number(stream.split('/')[1] ?? 1),
  message: treated.length ? 'social' : 'none',
  finished: true,
  users,
  rounds,
  rows: [...warmup, ...rows],
  treated: treated.map((agentId) => ({ agentId, period: 1 })),
  counts: c,
});
const control = condition('control', [said(2, 2, 1), said(1, 5, 3), said(5, 10, 2)], counts({ 1: 1, 2: 0, 3: 1, 4: 0, 5: 1 }));
const mixedVotes = { 1: 1, 2: 1, 3: 1, 4: 0, 5: 0 };
const mixed = condition('experiment_soc_message/1', [said(1, 3, 4), said(2, 4, 2), said(3, 6, 3)], counts(mixedVotes, [1, 3]), [1, 3]);
// A second treatment seed: u2 ends at 4 instead of 2 -> mean 3.75, effect 1.25.
const mixed2 = condition('experiment_soc_message/2', [said(1, 3, 4), said(2, 4, 4), said(3, 6, 3)], counts(mixedVotes, [1, 3]), [1, 3]);
const data: RunData = {
  runId: 1,
  config: parseExperiment({}),
  personas: new Map(users.map((u) => [u, persona(u, u === 6 ? 15 : 30)])),
  warmupStream: 'run/1/warmup',
  conditions: [control, mixed, mixed2],
  missing: [],
};
// At the fork: u2 follows two treated users (1, 3), u4 follows one (1), u5 none.
const follows: Array<[number, number]> = [[2, 1], [2, 3], [4, 1], [5, 4]];

describe('final likelihoods', () => {
  it('keeps the last statement of each user who stated one, warmup included', () => {
    expect([...finalLikelihoods(control)].sort((a, b) => a[0] - b[0])).toEqual([[1, 3], [2, 1], [4, 4], [5, 2]]);
  });

  it('carries each user\'s latest answer forward to give a mean per round', () => {
    const index = new Map(control.rows.map((r) => [`${r.agentId}:${r.round}`, r.likelihood]));
    const series = likelihoodByRound(users, rounds, (u, r) => index.get(`${u}:${r}`) ?? null);
    const at = (r: number) => series.find((p) => p.round === r)!.mean;
    expect(at(-15)).toBeNull();
    expect(at(-3)).toBe(2);
    expect(at(-1)).toBe(3);
    expect(at(2)).toBeCloseTo(7 / 3, 12);
    expect(at(5)).toBeCloseTo(8 / 3, 12);
    expect(at(30)).toBe(2.5);
  });
});

describe('buildReport', () => {
  const report = buildReport(data, 'f', follows, null);

  it('gives turnout over users 18+ and mean final likelihood, overall and by treatment group', () => {
    const c = report.conditions.find((x) => x.stream === 'control')!;
    expect(c).toMatchObject({ eligible: 5, voters: 3, turnout: 0.6, stated: 4, meanFinalLikelihood: 2.5, treated: 0 });
    const m = report.conditions.find((x) => x.stream === 'experiment_soc_message/1')!;
    expect(m).toMatchObject({ eligible: 5, voters: 3, turnout: 0.6, treated: 2, turnoutTreated: 1, stated: 4, meanFinalLikelihood: 3.25 });
    expect(m.turnoutUntreated).toBeCloseTo(1 / 3, 12);
    expect(m.meanFinalLikelihoodTreated).toBe(3.5);
    expect(m.meanFinalLikelihoodUntreated).toBe(3);
  });

  it('estimates effects versus control with Neyman standard errors', () => {
    const e = report.effects.find((x) => x.stream === 'experiment_soc_message/1')!;
    expect(e.likelihood!.estimate).toBeCloseTo(0.75, 12);
    // variances: [4,2,3,4] 11/12, [3,1,4,2] 5/3
    expect(e.likelihood!.se).toBeCloseTo(Math.sqrt(11 / 12 / 4 + 5 / 3 / 4), 12);
    expect(e.turnout!.estimate).toBeCloseTo(0, 12);
    expect(report.effects.map((x) => x.stream)).toEqual(['experiment_soc_message/1', 'experiment_soc_message/2']);
  });

  it('pairs each user with themselves in control: mean of per-user differences, SE sd(d)/sqrt(n)', () => {
    const e = report.effects.find((x) => x.stream === 'experiment_soc_message/1')!;
    // users stating under both: u1 4-3, u2 2-1, u4 4-4 -> d = 1, 1, 0: mean 2/3, variance 1/3, se sqrt(1/3 / 3) = 1/3
    expect(e.paired.likelihood!.n).toBe(3);
    expect(e.paired.likelihood!.estimate).toBeCloseTo(2 / 3, 12);
    expect(e.paired.likelihood!.se).toBeCloseTo(1 / 3, 12);
    // turnout over the five adults: d = 0, 1, 0, 0, -1: mean 0, variance 2/4, se sqrt(0.5 / 5)
    expect(e.paired.turnout!.n).toBe(5);
    expect(e.paired.turnout!.estimate).toBeCloseTo(0, 12);
    expect(e.paired.turnout!.se).toBeCloseTo(Math.sqrt(0.1), 12);
    // the second treatment seed: u2 ends at 4: d = 1, 3, 0
    expect(report.effects.find((x) => x.stream === 'experiment_soc_message/2')!.paired.likelihood!.estimate).toBeCloseTo(4 / 3, 12);
  });

  it('gives turnout a 95% normal interval', () => {
    const c = report.conditions.find((x) => x.stream === 'control')!;
    expect(c.turnoutCi95![0]).toBeCloseTo(0.6 - 1.959963984540054 * Math.sqrt(0.24 / 5), 12);
    expect(c.turnoutCi95![1]).toBe(1);
  });

  it('breaks the paired effect down by persona attribute', () => {
    // every adult is 30, HS-grad, "Moderate", low tier: one group per attribute, equal to the overall effect
    const rows = report.heterogeneity.filter((r) => r.stream === 'experiment_soc_message/1' && r.attribute !== 'follower-count quintile');
    expect(rows.map((r) => [r.attribute, r.group, r.users])).toEqual([
      ['age band', '30-44', 5],
      ['education', 'high school', 5],
      ['partisanship', 'moderate', 5],
      ['stance strength', '0 moderate', 5],
      ['model tier', 'low', 5],
    ]);
    for (const r of rows) expect(r.likelihood!.estimate).toBeCloseTo(2 / 3, 12);
    // followers at the fork: u1 2, u3 1, u4 1, u2 and u5 none -> Q1 {u2, u5}, Q3 {u3, u4}, Q5 {u1};
    // at most one user of each states under both: too few for an interval
    const quintiles = report.heterogeneity.filter((r) => r.stream === 'experiment_soc_message/1' && r.attribute === 'follower-count quintile');
    expect(quintiles.map((r) => [r.group, r.users])).toEqual([['Q1 (0 followers)', 2], ['Q3 (1 followers)', 2], ['Q5 (2 followers)', 1]]);
    expect(quintiles.every((r) => r.likelihood === null)).toBe(true);
  });

  it('summarises the spread of the effect across treatment seeds', () => {
    const s = report.acrossSeeds.find((x) => x.condition === 'experiment_soc_message')!;
    expect(s.likelihoodEffect!.runs).toBe(2);
    expect(s.likelihoodEffect!.mean).toBeCloseTo(1, 12);
    expect(s.likelihoodEffect!.sd).toBeCloseTo(Math.sqrt(0.125), 12);
  });

  it('splits a mixed condition into the direct effect and spillovers by treated followees', () => {
    const m = report.mixed.find((x) => x.stream === 'experiment_soc_message/1')!;
    expect(m.direct!.estimate).toBeCloseTo(0.5, 12);
    expect(m.direct!.se).toBeCloseTo(Math.sqrt(0.5 / 2 + 2 / 2), 12);
    const group = (label: string) => m.spillover.find((s) => s.treatedFollowees === label)!;
    expect(group('0')).toMatchObject({ users: 0, meanFinalLikelihood: null });
    expect(group('1')).toMatchObject({ users: 1, meanFinalLikelihood: 4 });
    expect(group('1').vsControl!.estimate).toBe(0);
    expect(group('2')).toMatchObject({ users: 1, meanFinalLikelihood: 2 });
    // u2 said 1 in control
    expect(group('2').vsControl!.estimate).toBe(1);
    expect(group('3+').users).toBe(0);
    expect(report.mixed.map((x) => x.stream)).toEqual(['experiment_soc_message/1', 'experiment_soc_message/2']);
  });

  it('gives no effects when the run has no control', () => {
    const noControl = buildReport({ ...data, conditions: [mixed] }, 'f', follows, null);
    expect(noControl.effects[0]).toMatchObject({ likelihood: null, turnout: null, paired: { likelihood: null, turnout: null } });
    expect(noControl.heterogeneity).toEqual([]);
    expect(noControl.mixed[0].spillover.every((s) => s.vsControl === null)).toBe(true);
  });
});

describe('reading a folder in the reference layout (--compare)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-ref-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, `${name}_voting_data.csv`), text);
  };
  write('control', ',-1,0,1\n0,2.0,,3.0\n1,,1.0,\n2,,,\n');
  write('treatment_soc_message', ',-1,0,1\n0,4.0,,\n1,,,3.0\n2,2.0,,\n');

  it('takes each user\'s last stated value, the effect versus control, and the curve', () => {
    const ref = readReferenceFolder(dir);
    const c = ref.conditions.find((x) => x.condition === 'control')!;
    expect(c).toMatchObject({ users: 3, meanFinalLikelihood: 2, likelihoodEffect: null });
    const t = ref.conditions.find((x) => x.condition === 'treatment_soc_message')!;
    expect(t.meanFinalLikelihood).toBeCloseTo(3, 12);
    expect(t.likelihoodEffect).toBeCloseTo(1, 12);
    expect(ref.likelihoodByRound.control).toEqual([
      { round: -1, mean: 2 },
      { round: 0, mean: 1.5 },
      { round: 1, mean: 2 },
    ]);
  });

  it('pools a folder of seed_<n> folders (as result_data/): every seed\'s users, effects from the pooled means', () => {
    const seeds = mkdtempSync(join(tmpdir(), 'sim-ref-seeds-'));
    try {
      const put = (seed: number, name: string, text: string) => {
        mkdirSync(join(seeds, `seed_${seed}`, name), { recursive: true });
        writeFileSync(join(seeds, `seed_${seed}`, name, `${name}_voting_data.csv`), text);
      };
      put(1, 'control', ',-1,0\n0,2.0,\n1,,4.0\n');
      put(2, 'control', ',-1,0\n0,0.0,3.0\n');
      put(1, 'treatment_soc_message', ',-1,0\n0,4.0,\n1,,4.0\n');
      put(2, 'treatment_soc_message', ',-1,0\n0,1.0,\n');
      const ref = readReferenceFolder(seeds);
      expect(ref.source).toBe(`${seeds}, 2 seeds pooled (1, 2)`);
      // control: finals 2, 4 (seed 1) and 3 (seed 2): 3 users, mean 3; treatment: 4, 4, 1: mean 3, effect 0.
      expect(ref.conditions.find((x) => x.condition === 'control')).toMatchObject({ users: 3, meanFinalLikelihood: 3 });
      expect(ref.conditions.find((x) => x.condition === 'treatment_soc_message')).toMatchObject({ users: 3, meanFinalLikelihood: 3, likelihoodEffect: 0 });
      // Round -1: users with a value then (2 and 0); round 0: carried forward, 2 -> 2, then 4 and 3: (2 + 4 + 3) / 3.
      expect(ref.likelihoodByRound.control).toEqual([
        { round: -1, mean: 1 },
        { round: 0, mean: 3 },
      ]);
    } finally {
      rmSync(seeds, { recursive: true, force: true });
    }
  });

  it('refuses a missing folder or one without voting files', () => {
    expect(() => readReferenceFolder(join(dir, 'nope'))).toThrow(/--compare .*no such folder/);
    expect(() => readReferenceFolder(join(dir, 'control', '..', 'control'))).toThrow(/no <condition>\/<condition>_voting_data.csv files found/);
  });
});
