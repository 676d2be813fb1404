import { parse } from 'csv-parse/sync';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { averageShapes, conditionShape, type ConditionShape, type VotingMatrix } from './shape.js';

/** The conditions the offline model is fitted to; the mixed ones are predictions, not targets. */
export const FIT_CONDITIONS = ['control', 'treatment_info_message', 'treatment_soc_message'] as const;
export type FitCondition = (typeof FIT_CONDITIONS)[number];

export interface Targets {
  source: string;
  /** The seed folders read (empty when the folder holds the conditions directly). */
  seeds: number[];
  rounds: number[];
  /** Per condition: the shape averaged over seeds, and each seed's shape (for the spread). */
  conditions: Record<FitCondition, { mean: ConditionShape; perSeed: ConditionShape[] }>;
}

/** Reads <condition>/<condition>_voting_data.csv (the reference's layout and `sim export csv`'s). */
export function readVotingMatrix(file: string): VotingMatrix {
  const records = parse(readFileSync(file), { relax_column_count: true }) as string[][];
  if (records.length === 0) throw new UsageError(`${file}: empty file`);
  const rounds = records[0].slice(1).map(Number);
  if (rounds.some((r) => !Number.isInteger(r))) throw new UsageError(`${file}: line 1: the header must be an empty cell then round numbers`);
  const rows = records.slice(1).map((row, i) =>
    rounds.map((_, j) => {
      const cell = row[j + 1];
      if (cell === undefined || cell === '') return null;
      const v = Number(cell);
      if (!Number.isInteger(v) || v < 0 || v > 4) throw new UsageError(`${file}: line ${i + 2}: "${cell}" is not a likelihood 0-4`);
      return v;
    }),
  );
  return { rounds, rows };
}

/**
 * Reads the fitting targets from a folder in the reference's layout: either seed_<n>/<condition>/
 * folders (the reference's data; `seeds` picks some) or the <condition>/ folders of one export.
 */
export function readTargets(dir: string, seeds: number[] | null): Targets {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--to ${dir}: no such folder`);
  const seedDirs = readdirSync(dir)
    .map((name) => /^seed_(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ seed: Number(m[1]), path: join(dir, m[0]) }))
    .sort((a, b) => a.seed - b.seed);
  let folders: Array<{ seed: number | null; path: string }>;
  if (seedDirs.length > 0) {
    const wanted = seeds ?? seedDirs.map((s) => s.seed);
    for (const s of wanted) if (!seedDirs.some((d) => d.seed === s)) throw new UsageError(`--seeds: ${dir} has no seed_${s} folder`);
    folders = seedDirs.filter((d) => wanted.includes(d.seed));
  } else {
    if (seeds !== null) throw new UsageError(`--seeds: ${dir} has no seed_<n> folders, only one set of conditions`);
    folders = [{ seed: null, path: dir }];
  }
  let rounds: number[] | null = null;
  const conditions = {} as Targets['conditions'];
  for (const condition of FIT_CONDITIONS) {
    const perSeed = folders.map((f) => {
      const file = join(f.path, condition, `${condition}_voting_data.csv`);
      if (!existsSync(file)) throw new UsageError(`--to ${dir}: missing ${file} (the fit needs ${FIT_CONDITIONS.join(', ')})`);
      const m = readVotingMatrix(file);
      rounds ??= m.rounds;
      return conditionShape(m);
    });
    conditions[condition] = { mean: averageShapes(perSeed), perSeed };
  }
  return { source: dir, seeds: folders.flatMap((f) => (f.seed === null ? [] : [f.seed])), rounds: rounds!, conditions };
}
