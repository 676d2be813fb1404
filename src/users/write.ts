import { stringify } from 'csv-stringify/sync';
import { join } from 'node:path';
import type { UserFiles } from '../domain/population/types.js';
import { checkFolderToWriteInto, writeFileWhole, type Named } from '../write-whole.js';
import { PROFILE_COLUMNS } from './load.js';

/** Writes profiles.csv and network.csv in the reference's columns (each file whole, then renamed). */
export function writeUsersDir(dir: string, files: UserFiles, named: Named = { flag: '--out', path: dir }): void {
  checkFolderToWriteInto(dir, named);
  const profiles = files.profiles.map((p) => [
    p.userId,
    p.age,
    p.sex,
    p.race,
    p.education,
    p.occupation,
    p.workclass,
    p.maritalStatus,
    p.relationship,
    p.nativeCountry,
    p.hoursPerWeek,
    p.politicalStance,
    p.interests.join(', '),
    p.closeFriends.join(', '),
    p.publicProfile,
  ]);
  writeFileWhole(join(dir, 'profiles.csv'), stringify([[...PROFILE_COLUMNS], ...profiles]), named);
  const lines = ['source_user_id,target_user_id'];
  for (const [s, t] of files.follows) lines.push(`${s},${t}`);
  writeFileWhole(join(dir, 'network.csv'), `${lines.join('\n')}\n`, named);
}
