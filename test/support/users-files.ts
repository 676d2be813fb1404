import { stringify } from 'csv-stringify/sync';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testFollows, testProfiles } from './population.js';

export const PROFILE_COLUMNS = [
  'user_id', 'age', 'sex', 'race', 'education', 'occupation', 'workclass', 'marital_status', 'relationship',
  'native_country', 'hours_per_week', 'political_stance', 'interests', 'close_friends', 'public_profile',
];

/** Writes a small population in the reference's file format (profiles.csv, network.csv). */
export function writeUsersDir(dir: string, n: number, seed = 1): string {
  mkdirSync(dir, { recursive: true });
  const profiles = testProfiles(n, seed);
  const rows = profiles.map((p) => [
    p.userId, p.age, p.sex, p.race, p.education, p.occupation, p.workclass, p.maritalStatus, p.relationship,
    p.nativeCountry, p.hoursPerWeek, p.politicalStance, p.interests.join(', '), '', p.publicProfile,
  ]);
  writeFileSync(join(dir, 'profiles.csv'), stringify([PROFILE_COLUMNS, ...rows]));
  const edges = testFollows(n, seed, 6);
  writeFileSync(join(dir, 'network.csv'), stringify([['source_user_id', 'target_user_id'], ...edges]));
  return dir;
}
