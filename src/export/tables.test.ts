import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import type { Persona } from '../domain/persona.js';
import { missingDetail } from './run-data.js';
import {
  activityMatrix,
  engagementMatrix,
  formatCell,
  graphml,
  matrixRecords,
  PERSONA_COLUMNS,
  personaRecord,
  roundsBetween,
  treatmentMatrix,
  votingMatrix,
  type RoundRow,
} from './tables.js';

// Two users (ids out of order on purpose: rows must follow the given ascending list), rounds -2 .. 3.
const users = [4, 9];
const rounds = roundsBetween(-2, 3);
const rows: RoundRow[] = [
  { agentId: 9, round: -2, active: 1, likelihood: 2, engagement: 1 },
  { agentId: 4, round: 0, active: 1, likelihood: null, engagement: 0 },
  { agentId: 4, round: 2, active: 1, likelihood: 4, engagement: 3 },
  // engaged without acting (a reply credited in a round it was not scheduled): engagement, not activity
  { agentId: 9, round: 3, active: 0, likelihood: null, engagement: 2 },
  // outside the window or the population: ignored
  { agentId: 9, round: 7, active: 1, likelihood: 1, engagement: 1 },
  { agentId: 5, round: 1, active: 1, likelihood: 3, engagement: 1 },
];

describe('round tables', () => {
  it('lists rounds inclusively', () => {
    expect(roundsBetween(-15, 30)).toHaveLength(46);
    expect(roundsBetween(-15, 30)[0]).toBe(-15);
    expect(roundsBetween(-15, 30)[45]).toBe(30);
  });

  it('puts stated likelihoods where stated and leaves every other cell empty', () => {
    expect(votingMatrix(users, rounds, rows).cells).toEqual([
      [null, null, null, null, 4, null],
      [2, null, null, null, null, null],
    ]);
  });

  it('marks activity 0/1 and sums engagement, 0 where nothing happened', () => {
    expect(activityMatrix(users, rounds, rows).cells).toEqual([
      [0, 0, 1, 0, 1, 0],
      [1, 0, 0, 0, 0, 0],
    ]);
    expect(engagementMatrix(users, rounds, rows).cells).toEqual([
      [0, 0, 0, 0, 3, 0],
      [1, 0, 0, 0, 0, 2],
    ]);
  });

  it('marks treatment in every round of each treated period and never in the warmup', () => {
    // periods: rounds 1-2 are period 1, round 3 period 2; warmup rounds have none
    const periodOf = (r: number) => (r <= 0 ? null : r <= 2 ? 1 : 2);
    const m = treatmentMatrix(users, rounds, [{ agentId: 9, period: 1 }, { agentId: 4, period: 2 }, { agentId: 9, period: 2 }], periodOf);
    expect(m.cells).toEqual([
      [0, 0, 0, 0, 0, 1],
      [0, 0, 0, 1, 1, 1],
    ]);
  });

  it('formats likelihoods as the reference did ("3.0") and counts as integers', () => {
    expect(formatCell(3, true)).toBe('3.0');
    expect(formatCell(0, true)).toBe('0.0');
    expect(formatCell(null, true)).toBe('');
    expect(formatCell(2, false)).toBe('2');
  });

  it('writes a CSV whose header is an empty cell then the rounds, readable back cell for cell', () => {
    const text = stringify(matrixRecords(votingMatrix(users, rounds, rows), true));
    expect(text.split('\n')[0]).toBe(',-2,-1,0,1,2,3');
    expect(text.split('\n')[1]).toBe('4,,,,,4.0,');
    expect(parse(text)).toEqual([
      ['', '-2', '-1', '0', '1', '2', '3'],
      ['4', '', '', '', '', '4.0', ''],
      ['9', '2.0', '', '', '', '', ''],
    ]);
  });
});

describe('personas table', () => {
  const persona: Persona = {
    id: 12,
    age: 41,
    sex: 'Female',
    race: 'White',
    education: 'Bachelors',
    occupation: 'Engineer, "senior"',
    workclass: 'Private',
    maritalStatus: 'Married-civ-spouse',
    relationship: 'Wife',
    nativeCountry: 'United-States',
    hoursPerWeek: 40,
    politicalStance: 'Moderate',
    interests: ['Politics', 'Technology'],
    closeFriends: [3, 7],
    publicProfile: 'x',
    workSchedule: 'full-time standard',
    tier: 'low',
    model: 'gpt-4.1-nano',
  };
  const counts = { following: 5, followers: 2, liked: 8, replied: 1, seen: 30, treated: 1, voted: 1 };

  it("has the reference's persona columns in their order (docs/protocol.md)", () => {
    expect(PERSONA_COLUMNS.join(',')).toBe(
      'user_id,age,gender,race/ethnicity,education,occupation,work_schedule,marital_status,political_stance,interests,close_friends,llm_model,following_count,followers_count,posts_liked_count,posts_replied_to_count,total_content_seen_count,treatment_group,treatment_type,voted',
    );
  });

  it('fills one record per column, Yes/No for the treatment group, quoted where the CSV needs it', () => {
    const record = personaRecord(persona, counts, 'social');
    expect(record).toHaveLength(PERSONA_COLUMNS.length);
    expect(Object.fromEntries(PERSONA_COLUMNS.map((c, i) => [c, record[i]]))).toMatchObject({
      user_id: '12',
      gender: 'Female',
      interests: 'Politics, Technology',
      close_friends: '3, 7',
      following_count: '5',
      total_content_seen_count: '30',
      treatment_group: 'Yes',
      treatment_type: 'social',
      voted: '1',
    });
    const untreated = personaRecord(persona, { ...counts, treated: 0, voted: null }, 'social');
    expect(untreated.slice(-3)).toEqual(['No', 'none', '0']);
    // csv-stringify quotes the comma and the inner quotes; parsing gives the fields back
    expect(parse(stringify([record]))[0]).toEqual(record);
  });
});

describe('graphml', () => {
  it('holds every user as a node and every follow as a directed edge', () => {
    const xml = graphml([1, 2, 3], [[1, 2], [3, 1]]);
    expect(xml).toContain('edgedefault="directed"');
    expect(xml.match(/<node /g)).toHaveLength(3);
    expect(xml).toContain('<edge id="e0" source="1" target="2"/>');
    expect(xml).toContain('<edge id="e1" source="3" target="1"/>');
  });
});

describe('what an unfinished stream lacks', () => {
  it('names the missing rounds and the election', () => {
    expect(missingDetail('control', 12, 1, 30, true)).toBe('control (rounds 13..30 and the election missing)');
    expect(missingDetail('control', 29, 1, 30, true)).toBe('control (round 30 and the election missing)');
    expect(missingDetail('control', 30, 1, 30, true)).toBe('control (the election missing)');
    expect(missingDetail('x/2', null, 1, 30, true)).toBe('x/2 (not started: rounds 1..30 and the election missing)');
    expect(missingDetail('warmup', -4, -15, 0, false)).toBe('warmup (rounds -3..0 missing)');
    expect(missingDetail('warmup', 0, -15, 0, false)).toBe('warmup (not closed)');
  });
});
