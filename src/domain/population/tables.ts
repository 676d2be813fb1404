import type { Rng } from '../rng.js';

/** Age bands the conditional census tables are keyed by. */
export const AGE_BANDS = ['18-24', '25-34', '35-44', '45-54', '55-64', '65+'] as const;

export function ageBand(age: number): string {
  if (age < 25) return '18-24';
  if (age < 35) return '25-34';
  if (age < 45) return '35-44';
  if (age < 55) return '45-54';
  if (age < 65) return '55-64';
  return '65+';
}

export type Counts = Record<string, number>;

export interface CensusTables {
  source: string;
  rows: number;
  ageBands: readonly string[];
  age: Counts;
  sex: Counts;
  race: Counts;
  nativeCountry: Counts;
  educationByAgeBand: Record<string, Counts>;
  /** "occupation|workclass" given education. */
  jobByEducation: Record<string, Counts>;
  /** "marital status|relationship" given "age band|sex". */
  familyByAgeBandSex: Record<string, Counts>;
  hoursByOccupation: Record<string, Counts>;
}

/**
 * A categorical distribution prepared for sampling: keys in a fixed (sorted) order with cumulative
 * weights, so the same uniform draw always gives the same category.
 */
export class Categorical {
  private readonly keys: string[];
  private readonly cumulative: number[];

  constructor(counts: Counts) {
    this.keys = Object.keys(counts).sort();
    let total = 0;
    this.cumulative = this.keys.map((k) => (total += counts[k]));
    if (total <= 0) throw new Error('Categorical: no weight');
  }

  draw(r: Rng): string {
    const u = r.next() * this.cumulative[this.cumulative.length - 1];
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return this.keys[lo];
  }
}

/** Every table prepared once, looked up by its conditioning key. */
export class PreparedTables {
  readonly age: Categorical;
  readonly sex: Categorical;
  readonly race: Categorical;
  readonly nativeCountry: Categorical;
  private readonly cache = new Map<string, Categorical>();

  constructor(readonly tables: CensusTables) {
    this.age = new Categorical(tables.age);
    this.sex = new Categorical(tables.sex);
    this.race = new Categorical(tables.race);
    this.nativeCountry = new Categorical(tables.nativeCountry);
  }

  conditional(table: 'educationByAgeBand' | 'jobByEducation' | 'familyByAgeBandSex' | 'hoursByOccupation', key: string): Categorical {
    const id = `${table}:${key}`;
    let c = this.cache.get(id);
    if (!c) {
      const counts = this.tables[table][key];
      if (!counts) throw new Error(`census table ${table} has no row for "${key}"`);
      this.cache.set(id, (c = new Categorical(counts)));
    }
    return c;
  }
}
