import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputFileError } from '../errors.js';
import { sampledIds, sampleUsers } from '../domain/population/sample.js';
import { parse } from 'csv-parse/sync';
import { DEFAULT_USERS_DIR, loadUsersDir, parseList, simpleCsv } from './load.js';

const root = mkdtempSync(join(tmpdir(), 'sim-users-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const HEADER = 'user_id,age,sex,race,education,occupation,workclass,marital_status,relationship,native_country,hours_per_week,political_stance,interests,close_friends,public_profile';
const row = (id: number | string, age: number | string = 30, interests = '"Politics, Technology"', friends = '""', hours: number | string = 40) =>
  `${id},${age},Female,White,Bachelors,Sales,Private,Never-married,Not-in-family,United-States,${hours},moderate,${interests},${friends},"A user"`;

let n = 0;
function usersDir(profiles: string[], network: string[] = ['source_user_id,target_user_id']): string {
  const dir = join(root, `case-${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'profiles.csv'), `${profiles.join('\n')}\n`);
  writeFileSync(join(dir, 'network.csv'), `${network.join('\n')}\n`);
  return dir;
}

function problems(dir: string): string[] {
  try {
    loadUsersDir(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(InputFileError);
    return (error as InputFileError).problems;
  }
  throw new Error('expected an InputFileError');
}

describe('loading user files', () => {
  it('loads the reference format, including Python-style lists', () => {
    const dir = usersDir([HEADER, row(1, 30, `"['Politics', 'Sports']"`, '"[2]"'), row(2, 17)], ['source_user_id,target_user_id', '1,2', '2,1', '1,2']);
    const files = loadUsersDir(dir);
    expect(files.profiles.map((p) => [p.userId, p.age, p.interests, p.closeFriends])).toEqual([
      [1, 30, ['Politics', 'Sports'], [2]],
      [2, 17, ['Politics', 'Technology'], []],
    ]);
    // duplicate edges are kept once
    expect(files.follows).toEqual([[1, 2], [2, 1]]);
  });

  it('reads network.csv the same through its fast path and through the CSV parser', () => {
    const profiles = [HEADER, row(1), row(2), row(3)];
    // Plain (fast path): blank lines, duplicates, columns swapped, no final line break.
    const plain = usersDir(profiles);
    writeFileSync(join(plain, 'network.csv'), 'target_user_id,source_user_id\n2,1\n\n3,1\n2,1\n1,2\n1,3');
    // The same edges in forms only the CSV parser reads: CR line ends, quoted ids, spaces, an extra cell.
    const quoted = usersDir(profiles, ['target_user_id,source_user_id\r', '"2","1"\r', '3, 1 \r', '2,1,x\r', '1,2\r', '1,3\r']);
    const expected = [[1, 2], [1, 3], [2, 1], [3, 1]];
    expect(loadUsersDir(plain).follows).toEqual(expected);
    expect(loadUsersDir(quoted).follows).toEqual(expected);
  });

  it('names the file and line of each bad row', () => {
    const dir = usersDir([HEADER, row(1), row(1), row('x'), row(3, 'old'), row(4, 150), row(5, 30, '""'), row(6, 30, '"Politics"', '"99"')]);
    const profiles = join(dir, 'profiles.csv');
    expect(problems(dir)).toEqual([
      `${profiles}:3: duplicate user_id 1 (first on line 2)`,
      `${profiles}:4: user_id "x" is not an integer`,
      `${profiles}:5: age "old" is not an integer`,
      `${profiles}:6: age 150 is out of range (0-120)`,
      `${profiles}:7: interests is empty (list at least one, e.g. "Politics, Technology")`,
    ]);
  });

  it('checks close friends and edges against the users', () => {
    const dir = usersDir([HEADER, row(1, 30, '"Politics"', '"99"'), row(2)], ['source_user_id,target_user_id', '1,2', '1,7', '2,2', 'a,b']);
    const network = join(dir, 'network.csv');
    expect(problems(dir)).toEqual([
      `${join(dir, 'profiles.csv')}:2: close_friends names user 99, who is not in the file`,
      `${network}:3: target_user_id 7 is not a user in profiles.csv`,
      `${network}:4: self-loop: user 2 follows itself`,
      `${network}:5: edge "a,b" does not name two user ids`,
    ]);
  });

  it('keeps only the edges among the users `keep` picks, in file order, and still checks every edge', () => {
    const profiles = [HEADER, row(1), row(2), row(3), row(4)];
    const edges = ['source_user_id,target_user_id', '3,1', '1,2', '4,1', '2,1', '1,3', '1,2', '2,4'];
    const keep = () => new Set([1, 2, 3]);
    // The fast path and the CSV parser's (CR line ends): the edges among 1-3, duplicates once.
    const plain = usersDir(profiles, edges);
    const crlf = usersDir(profiles, edges.map((e) => `${e}\r`));
    const expected = [[3, 1], [1, 2], [2, 1], [1, 3]];
    expect(loadUsersDir(plain, keep).follows).toEqual(expected);
    expect(loadUsersDir(crlf, keep).follows).toEqual(expected);
    expect(loadUsersDir(plain).follows).toEqual([...expected.slice(0, 2), [4, 1], ...expected.slice(2), [2, 4]]);
    // Ids too large for a table by id are looked up in sets, with the same result.
    const big = (id: number) => (id === 4 ? 4 : id * 10_000_000);
    const large = usersDir([HEADER, ...[1, 2, 3, 4].map((id) => row(big(id)))], edges.map((e, i) => (i === 0 ? e : e.split(',').map((id) => big(Number(id))).join(','))));
    expect(loadUsersDir(large, () => new Set([1, 2, 3].map(big))).follows).toEqual(expected.map(([a, b]) => [big(a), big(b)]));
    // An edge between users who were not picked is still validated.
    const bad = usersDir(profiles, [...edges, '4,4']);
    try {
      loadUsersDir(bad, keep);
      expect.unreachable();
    } catch (error) {
      expect((error as InputFileError).problems).toEqual([`${join(bad, 'network.csv')}:9: self-loop: user 4 follows itself`]);
    }
  });

  it('gives a run the same sample whether the whole network is kept or only the sample\'s edges', () => {
    const keep = (profiles: readonly { userId: number }[]) => sampledIds(profiles as never, 1000, 7);
    const whole = sampleUsers(loadUsersDir(DEFAULT_USERS_DIR), 1000, 7);
    const kept = sampleUsers(loadUsersDir(DEFAULT_USERS_DIR, keep), 1000, 7);
    expect(kept.follows.length).toBeGreaterThan(0);
    expect(JSON.stringify(kept) === JSON.stringify(whole)).toBe(true);
  });

  it('reports a missing column and a missing file', () => {
    const dir = usersDir([HEADER.replace(',age', ''), '1,Female']);
    expect(problems(dir)).toEqual([`${join(dir, 'profiles.csv')}:1: missing column age`]);
    const empty = join(root, 'empty');
    mkdirSync(empty);
    expect(problems(empty)).toEqual([`${join(empty, 'profiles.csv')}: file is missing`, `${join(empty, 'network.csv')}: file is missing`]);
  });

  it('reports at most 20 problems and says how many more', () => {
    const dir = usersDir([HEADER, ...Array.from({ length: 25 }, (_, i) => row(i, -1))]);
    const list = problems(dir);
    expect(list).toHaveLength(21);
    expect(list[20]).toBe('... and 5 more problems');
  });

  it('parses list cells', () => {
    expect(parseList('Politics, Technology')).toEqual(['Politics', 'Technology']);
    expect(parseList("['a', \"b\"]")).toEqual(['a', 'b']);
    expect(parseList('[]')).toEqual([]);
  });
});

describe('sampling users', () => {
  const files = {
    profiles: [0, 1, 2, 3, 4].map((id) => ({ userId: id, closeFriends: [(id + 1) % 5] }) as never),
    follows: [[0, 1], [1, 2], [2, 3], [3, 4], [4, 0]] as Array<[number, number]>,
    source: 'five',
  };
  it('keeps only edges and close friends among the sampled users, in id order, reproducibly', () => {
    const a = sampleUsers(files, 3, 1);
    expect(a).toEqual(sampleUsers(files, 3, 1));
    const ids = a.profiles.map((p) => p.userId);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    const kept = new Set(ids);
    expect(a.follows).toEqual(files.follows.filter(([s, t]) => kept.has(s) && kept.has(t)));
    for (const p of a.profiles) for (const f of p.closeFriends) expect(kept.has(f)).toBe(true);
  });
  it('refuses more users than the population has', () => {
    expect(() => sampleUsers(files, 6, 1)).toThrow('--n-users 6 is larger than the population in five (5 users)');
  });
});

describe('simpleCsv (the plain-form fast path)', () => {
  const viaCsvParse = (text: string) =>
    (parse(Buffer.from(text), { info: true, relax_column_count: true, skip_empty_lines: true, bom: true }) as unknown as Array<{ record: string[]; info: { lines: number } }>).map((r) => ({ record: r.record, info: { lines: r.info.lines } }));

  it('gives csv-parse\'s records and line numbers for plain files', () => {
    const cases = [
      'a,b\n1,2\n\n3,4\n',
      'a,b\n1,2\n \n3,4',
      '\uFEFFa,b\n1,2\n\n\n',
      'a,b\n1\n1,2,3\n,\n',
      'a,b\n\t\n1,2',
      '',
      '\n\n',
      'a,b',
      'id,text,list\n1,"say ""hi"", then go","a, b"\n2,"",\n3,x,""\n"q",,"z"',
      `${HEADER}\n${row(1)}\n${row(2, 40, '"Art"', '"1"')}\n`,
    ];
    for (const text of cases) expect(simpleCsv(Buffer.from(text)), JSON.stringify(text)).toEqual(viaCsvParse(text));
  });

  it('leaves to csv-parse what is not in the plain form', () => {
    for (const text of ['a,b\r\n1,2\r\n', 'a,b\n1,x"y\n', 'a,b\n"1\n2",3\n', 'a,b\n"1" ,2\n', 'a,b\n"unterminated\n']) {
      expect(simpleCsv(Buffer.from(text)), JSON.stringify(text)).toBeNull();
    }
  });

  it('reads the default population exactly as csv-parse does', () => {
    for (const file of ['profiles.csv', 'network.csv']) {
      // network.csv's first 20,000 edges: csv-parse takes seconds on all 400,000.
      const text = readFileSync(join(DEFAULT_USERS_DIR, file), 'utf8').split('\n').slice(0, 20_001).join('\n');
      const bytes = Buffer.from(text);
      const fast = simpleCsv(bytes);
      const slow = viaCsvParse(bytes.toString('utf8'));
      expect(fast?.length).toBe(slow.length);
      // Compared as text: toEqual on 20,000 records of 15 cells takes long.
      expect(JSON.stringify(fast) === JSON.stringify(slow)).toBe(true);
    }
  });
});
