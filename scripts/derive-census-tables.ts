/**
 * Derives the population generator's distribution tables from the UCI Adult extract of the 1994
 * U.S. Census (Becker & Kohavi, UCI Machine Learning Repository, CC BY 4.0) and writes them to
 * src/domain/population/census-tables.json. Only counts are written, never rows.
 *
 *   npx tsx scripts/derive-census-tables.ts [path/to/adult.csv]
 *
 * Conditional tables keep the obvious correlations: education given age band; occupation and
 * workclass given education; marital status and relationship given age band and sex; hours per
 * week given occupation. '?' (unknown) cells are dropped from the table they would enter.
 */
import { parse } from 'csv-parse/sync';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AGE_BANDS, ageBand } from '../src/domain/population/tables.js';

const input = process.argv[2] ?? fileURLToPath(new URL('../../shared/reference/census/adult.csv', import.meta.url));
const output = fileURLToPath(new URL('../src/domain/population/census-tables.json', import.meta.url));

const rows = parse(readFileSync(input), { columns: true, trim: true }) as Array<Record<string, string>>;
const known = (v: string | undefined): v is string => v !== undefined && v !== '' && v !== '?';

type Counts = Record<string, number>;
const add = (table: Record<string, Counts>, key: string, value: string) => {
  const counts = (table[key] ??= {});
  counts[value] = (counts[value] ?? 0) + 1;
};
const sorted = (counts: Counts): Counts => Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
const sortedTable = (t: Record<string, Counts>) => Object.fromEntries(Object.keys(t).sort().map((k) => [k, sorted(t[k])]));

const age: Counts = {};
const sex: Counts = {};
const race: Counts = {};
const nativeCountry: Counts = {};
const educationByAgeBand: Record<string, Counts> = {};
const jobByEducation: Record<string, Counts> = {};
const familyByAgeBandSex: Record<string, Counts> = {};
const hoursByOccupation: Record<string, Counts> = {};

for (const r of rows) {
  const a = Number(r.age);
  if (!Number.isInteger(a) || a < 18) continue; // minors are added by the generator at a documented share
  age[a] = (age[a] ?? 0) + 1;
  const band = ageBand(a);
  if (known(r.sex)) sex[r.sex] = (sex[r.sex] ?? 0) + 1;
  if (known(r.race)) race[r.race] = (race[r.race] ?? 0) + 1;
  if (known(r['native-country'])) nativeCountry[r['native-country']] = (nativeCountry[r['native-country']] ?? 0) + 1;
  if (known(r.education)) add(educationByAgeBand, band, r.education);
  if (known(r.education) && known(r.occupation) && known(r.workclass)) add(jobByEducation, r.education, `${r.occupation}|${r.workclass}`);
  if (known(r.sex) && known(r['marital-status']) && known(r.relationship)) add(familyByAgeBandSex, `${band}|${r.sex}`, `${r['marital-status']}|${r.relationship}`);
  if (known(r.occupation) && known(r['hours-per-week'])) add(hoursByOccupation, r.occupation, r['hours-per-week']);
}

const tables = {
  source:
    'Derived from the UCI Adult extract of the 1994 U.S. Census (Becker, B. & Kohavi, R. (1996). Adult. UCI Machine Learning Repository. CC BY 4.0), adults 18+, by scripts/derive-census-tables.ts. Counts only.',
  rows: rows.length,
  ageBands: AGE_BANDS,
  age: sorted(age),
  sex: sorted(sex),
  race: sorted(race),
  nativeCountry: sorted(nativeCountry),
  educationByAgeBand: sortedTable(educationByAgeBand),
  jobByEducation: sortedTable(jobByEducation),
  familyByAgeBandSex: sortedTable(familyByAgeBandSex),
  hoursByOccupation: sortedTable(hoursByOccupation),
};
writeFileSync(output, `${JSON.stringify(tables, null, 1)}\n`);
process.stdout.write(`wrote ${output} from ${rows.length} census rows\n`);
