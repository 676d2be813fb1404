import { parse } from 'csv-parse/sync';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { conditionTotals, type ConditionTotals } from '../domain/outcomes.js';
import { UsageError } from '../errors.js';
import type { ConditionData, RunData } from '../export/run-data.js';
import { exposureFigures, type Exposure, type ExposureFigures } from './exposure.js';
import { heterogeneity, pairedOver, type HeterogeneityRow, type Outcomes } from './paired.js';
import type { PooledFigures } from './pooled.js';
import { differenceInMeans, mean, proportionInterval, spread, type Estimate, type PairedEstimate } from './stats.js';

/** Everything report.json holds; report.html shows the same numbers. */
export interface Report {
  run: number;
  fingerprint: string;
  seed: number;
  users: number;
  provider: string;
  finished: boolean;
  missing: string[];
  conditions: ConditionFigures[];
  effects: EffectFigures[];
  acrossSeeds: Array<{ condition: string; likelihoodEffect: ReturnType<typeof spread>; turnoutEffect: ReturnType<typeof spread> }>;
  mixed: MixedFigures[];
  /** The paired effect by persona attribute (eligible users), per condition. */
  heterogeneity: HeterogeneityRow[];
  /** Spillovers on untreated users of mixed conditions by measured exposure, paired against control. */
  exposure: ExposureFigures[];
  /** With several runs of one config (`sim report RUN RUN ...`): per-seed and pooled effects. */
  pooled: PooledFigures | null;
  likelihoodByRound: Record<string, Array<{ round: number; mean: number | null }>>;
  compare: CompareFigures | null;
}

/** A condition's figures in report.json: the outcome totals of src/domain/outcomes.ts (but the user count) and the turnout interval. */
export type ConditionFigures = { stream: string; condition: string; treatmentSeed: number } & Omit<ConditionTotals, 'users'> & {
  /** 95% normal interval of the turnout proportion. */
  turnoutCi95: [number, number] | null;
};

/**
 * `likelihood` and `turnout` are unpaired (difference in means of two samples): what a field
 * experiment of this size would see. `paired` is the mean of per-user differences over the users
 * present under both: the effect on these simulated users, which the shared warmup and common
 * random numbers make measurable.
 */
export interface EffectFigures {
  stream: string;
  condition: string;
  likelihood: Estimate | null;
  turnout: Estimate | null;
  paired: { likelihood: PairedEstimate | null; turnout: PairedEstimate | null };
}

export interface MixedFigures {
  stream: string;
  /** Treated minus untreated, inside the condition. */
  direct: Estimate | null;
  /** Untreated users by how many treated users they follow, against control's users. */
  spillover: Array<{ treatedFollowees: string; users: number; meanFinalLikelihood: number | null; vsControl: Estimate | null; pairedVsControl: PairedEstimate | null }>;
}

export interface CompareFigures {
  source: string;
  conditions: Array<{ condition: string; users: number; meanFinalLikelihood: number | null; likelihoodEffect: number | null }>;
  likelihoodByRound: Record<string, Array<{ round: number; mean: number | null }>>;
}

/** The last likelihood each user stated up to election day (users who never stated are left out). */
export function finalLikelihoods(c: ConditionData): Map<number, number> {
  const last = new Map<number, { round: number; value: number }>();
  for (const r of c.rows) {
    if (r.likelihood === null) continue;
    const seen = last.get(r.agentId);
    if (!seen || r.round > seen.round) last.set(r.agentId, { round: r.round, value: r.likelihood });
  }
  return new Map([...last].map(([id, v]) => [id, v.value]));
}

/** Per round, the mean over users who have stated so far of their latest likelihood (carried forward). */
export function likelihoodByRound(users: readonly number[], rounds: readonly number[], cells: (user: number, round: number) => number | null): Array<{ round: number; mean: number | null }> {
  const current = new Map<number, number>();
  return rounds.map((round) => {
    for (const u of users) {
      const v = cells(u, round);
      if (v !== null) current.set(u, v);
    }
    return { round, mean: current.size > 0 ? mean([...current.values()]) : null };
  });
}

/**
 * `exposures`, when given, holds per mixed condition stream what each user was exposed to (read from
 * the events by exposure-data.ts); without it the exposure section is left empty.
 */
export function buildReport(
  data: RunData,
  fingerprint: string,
  followsAtFork: ReadonlyArray<[number, number]>,
  compareDir: string | null,
  exposures?: ReadonlyMap<string, Map<number, Exposure>>,
): Report {
  const eligible = (id: number) => (data.personas.get(id)?.age ?? 0) >= 18;
  const figures = data.conditions.map((c) => conditionFigures(c, eligible));
  const control = data.conditions.find((c) => c.condition === 'control') ?? null;
  const controlFinal = control ? finalLikelihoods(control) : null;
  const controlVotes = control ? votes(control, eligible) : null;
  const outcomes = new Map(data.conditions.map((c) => [c.stream, outcomesOf(c, eligible)]));
  const controlOutcomes = control ? outcomes.get(control.stream)! : null;
  const allUsers = [...data.personas.keys()];

  const effects: EffectFigures[] = data.conditions
    .filter((c) => c !== control)
    .map((c) => ({
      stream: c.stream,
      condition: c.condition,
      likelihood: controlFinal ? differenceInMeans([...finalLikelihoods(c).values()], [...controlFinal.values()]) : null,
      turnout: controlVotes ? differenceInMeans(votes(c, eligible), controlVotes) : null,
      paired: {
        likelihood: controlOutcomes ? pairedOver(allUsers, outcomes.get(c.stream)!.likelihood, controlOutcomes.likelihood) : null,
        turnout: controlOutcomes ? pairedOver(allUsers, outcomes.get(c.stream)!.turnout, controlOutcomes.turnout) : null,
      },
    }));

  const byCondition = new Map<string, EffectFigures[]>();
  for (const e of effects) byCondition.set(e.condition, [...(byCondition.get(e.condition) ?? []), e]);
  const acrossSeeds = [...byCondition.entries()]
    .filter(([, list]) => list.length > 1)
    .map(([condition, list]) => ({
      condition,
      likelihoodEffect: spread(list.flatMap((e) => (e.likelihood ? [e.likelihood.estimate] : []))),
      turnoutEffect: spread(list.flatMap((e) => (e.turnout ? [e.turnout.estimate] : []))),
    }));

  const following = new Map<number, number[]>();
  for (const [s, t] of followsAtFork) {
    const list = following.get(s);
    if (list) list.push(t);
    else following.set(s, [t]);
  }
  const mixedConditions = data.conditions.filter((c) => data.config.conditions[c.condition].probabilities.some((p) => p > 0 && p < 1));
  const mixed: MixedFigures[] = mixedConditions.map((c) => mixedFigures(c, eligible, following, controlFinal));
  const followers = new Map<number, number>();
  for (const [, t] of followsAtFork) followers.set(t, (followers.get(t) ?? 0) + 1);
  const others = data.conditions.filter((c) => c !== control);
  const hetero = controlOutcomes
    ? heterogeneity(
        others.map((c) => ({ c, outcomes: outcomes.get(c.stream)! })),
        controlOutcomes,
        data.personas,
        (u) => followers.get(u) ?? 0,
      )
    : [];
  const exposure: ExposureFigures[] =
    controlFinal && exposures
      ? mixedConditions.flatMap((c) => {
          const measured = exposures.get(c.stream);
          if (!measured) return [];
          const untreated = c.users.filter(eligible).filter((u) => c.counts.get(u)?.treated !== 1);
          return [exposureFigures(c.stream, untreated, measured, outcomes.get(c.stream)!.likelihood, controlFinal)];
        })
      : [];

  const likelihood: Report['likelihoodByRound'] = {};
  for (const c of data.conditions) {
    const index = new Map<string, number>();
    for (const r of c.rows) if (r.likelihood !== null) index.set(`${r.agentId}:${r.round}`, r.likelihood);
    likelihood[c.stream] = likelihoodByRound(c.users, c.rounds, (u, round) => index.get(`${u}:${round}`) ?? null);
  }

  return {
    run: data.runId,
    fingerprint,
    seed: data.config.seed,
    users: data.personas.size,
    provider: data.config.provider,
    finished: data.missing.length === 0,
    missing: data.missing,
    conditions: figures,
    effects,
    acrossSeeds,
    mixed,
    heterogeneity: hetero,
    exposure,
    pooled: null,
    likelihoodByRound: likelihood,
    compare: compareDir ? readReferenceFolder(compareDir) : null,
  };
}

function outcomesOf(c: ConditionData, eligible: (id: number) => boolean): Outcomes {
  return { likelihood: finalLikelihoods(c), turnout: new Map(c.users.filter(eligible).map((u) => [u, c.counts.get(u)?.voted ?? 0])) };
}

function votes(c: ConditionData, eligible: (id: number) => boolean): number[] {
  return c.users.filter(eligible).map((u) => c.counts.get(u)?.voted ?? 0);
}

function conditionFigures(c: ConditionData, eligible: (id: number) => boolean): ConditionFigures {
  const final = finalLikelihoods(c);
  const t = conditionTotals(c.users.map((u) => ({ eligible: eligible(u), treated: c.counts.get(u)?.treated === 1, voted: (c.counts.get(u)?.voted ?? 0) === 1, finalLikelihood: final.get(u) ?? null })));
  return {
    stream: c.stream,
    condition: c.condition,
    treatmentSeed: c.treatmentSeed,
    eligible: t.eligible,
    voters: t.voters,
    turnout: t.turnout,
    treated: t.treated,
    turnoutTreated: t.turnoutTreated,
    turnoutUntreated: t.turnoutUntreated,
    turnoutCi95: proportionInterval(t.voters, t.eligible),
    stated: t.stated,
    meanFinalLikelihood: t.meanFinalLikelihood,
    meanFinalLikelihoodTreated: t.meanFinalLikelihoodTreated,
    meanFinalLikelihoodUntreated: t.meanFinalLikelihoodUntreated,
  };
}

function mixedFigures(c: ConditionData, eligible: (id: number) => boolean, following: Map<number, number[]>, controlFinal: Map<number, number> | null): MixedFigures {
  const final = finalLikelihoods(c);
  const isTreated = (u: number) => c.counts.get(u)?.treated === 1;
  const adults = c.users.filter(eligible).filter((u) => final.has(u));
  const direct = differenceInMeans(adults.filter(isTreated).map((u) => final.get(u)!), adults.filter((u) => !isTreated(u)).map((u) => final.get(u)!));
  const groups = new Map<string, number[]>();
  for (const u of adults.filter((x) => !isTreated(x))) {
    const k = (following.get(u) ?? []).filter(isTreated).length;
    const label = k >= 3 ? '3+' : String(k);
    const group = groups.get(label);
    if (group) group.push(u);
    else groups.set(label, [u]);
  }
  const spillover = ['0', '1', '2', '3+'].map((label) => {
    const members = groups.get(label) ?? [];
    const values = members.map((u) => final.get(u)!);
    // Compared with the same users in control: what they would have said without treated friends.
    const baseline = controlFinal ? members.flatMap((u) => (controlFinal.has(u) ? [controlFinal.get(u)!] : [])) : [];
    return {
      treatedFollowees: label,
      users: members.length,
      meanFinalLikelihood: values.length > 0 ? mean(values) : null,
      vsControl: controlFinal ? differenceInMeans(values, baseline) : null,
      pairedVsControl: controlFinal ? pairedOver(members, final, controlFinal) : null,
    };
  });
  return { stream: c.stream, direct, spillover };
}

/**
 * A folder in the reference layout (<condition>/<condition>_voting_data.csv), for --compare; or a
 * folder of such folders, one per seed (seed_<n>/, as result_data/ and the reference's published
 * data), whose users are pooled: each condition's figures are over the users of every seed.
 */
export function readReferenceFolder(dir: string): CompareFigures {
  if (!existsSync(dir)) throw new UsageError(`--compare ${dir}: no such folder`);
  const seedDirs = readdirSync(dir)
    .map((name) => ({ name, seed: /^seed_(\d+)$/.exec(name)?.[1] }))
    .filter((d): d is { name: string; seed: string } => d.seed !== undefined && statSync(join(dir, d.name)).isDirectory())
    .sort((a, b) => Number(a.seed) - Number(b.seed));
  const folders = seedDirs.length > 0 ? seedDirs.map((d) => join(dir, d.name)) : [dir];
  // Per condition, each user's stated values by round (every seed's users, one after another).
  const users = new Map<string, Array<Map<number, number>>>();
  const roundsOf = new Map<string, Set<number>>();
  for (const folder of folders) {
    for (const name of readdirSync(folder).sort()) {
      const file = join(folder, name, `${name}_voting_data.csv`);
      if (!existsSync(file)) continue;
      const records = parse(readFileSync(file), { relax_column_count: true }) as string[][];
      const rounds = records[0].slice(1).map(Number);
      const known = roundsOf.get(name) ?? new Set<number>();
      for (const r of rounds) known.add(r);
      roundsOf.set(name, known);
      const list = users.get(name) ?? [];
      for (const row of records.slice(1)) {
        const values = new Map<number, number>();
        rounds.forEach((round, j) => {
          const cell = row[j + 1];
          if (cell !== undefined && cell !== '') values.set(round, Number(cell));
        });
        list.push(values);
      }
      users.set(name, list);
    }
  }
  const conditions: CompareFigures['conditions'] = [];
  const byRound: CompareFigures['likelihoodByRound'] = {};
  for (const name of [...users.keys()].sort()) {
    const rows = users.get(name)!;
    const rounds = [...roundsOf.get(name)!].sort((a, b) => a - b);
    const finals: number[] = [];
    for (const values of rows) {
      for (let j = rounds.length - 1; j >= 0; j--) {
        const v = values.get(rounds[j]);
        if (v !== undefined) {
          finals.push(v);
          break;
        }
      }
    }
    conditions.push({ condition: name, users: rows.length, meanFinalLikelihood: finals.length > 0 ? mean(finals) : null, likelihoodEffect: null });
    byRound[name] = likelihoodByRound(
      rows.map((_, i) => i),
      rounds,
      (u, round) => rows[u].get(round) ?? null,
    );
  }
  const where = seedDirs.length > 0 ? `${dir} or its seed_<n> folders` : dir;
  if (conditions.length === 0) throw new UsageError(`--compare ${where}: no <condition>/<condition>_voting_data.csv files found`);
  const control = conditions.find((c) => c.condition === 'control');
  for (const c of conditions) if (control && c !== control && c.meanFinalLikelihood !== null && control.meanFinalLikelihood !== null) c.likelihoodEffect = c.meanFinalLikelihood - control.meanFinalLikelihood;
  const source = seedDirs.length > 0 ? `${dir}, ${seedDirs.length} seed${seedDirs.length === 1 ? '' : 's'} pooled (${seedDirs.map((d) => d.seed).join(', ')})` : dir;
  return { source, conditions, likelihoodByRound: byRound };
}
