import type { Persona } from '../domain/persona.js';

/**
 * The reference's per-condition tables as plain data (rows = users ascending, columns = rounds),
 * built from projection rows. Pure, so the layout is tested without a database.
 */
export interface RoundRow {
  agentId: number;
  round: number;
  active: number;
  likelihood: number | null;
  engagement: number;
}

export interface Matrix {
  users: number[];
  rounds: number[];
  /** cells[user index][round index]; null is an empty cell. */
  cells: Array<Array<number | null>>;
}

export function roundsBetween(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

function matrix(users: number[], rounds: number[], fill: number | null): Matrix {
  return { users, rounds, cells: users.map(() => rounds.map(() => fill)) };
}

function place(m: Matrix, rows: readonly RoundRow[], value: (r: RoundRow) => number | null): Matrix {
  const userIndex = new Map(m.users.map((u, i) => [u, i]));
  const first = m.rounds[0];
  for (const r of rows) {
    const i = userIndex.get(r.agentId);
    const j = r.round - first;
    if (i === undefined || j < 0 || j >= m.rounds.length) continue;
    const v = value(r);
    if (v !== null) m.cells[i][j] = v;
  }
  return m;
}

/** Stated likelihood where the user stated one, empty elsewhere. */
export function votingMatrix(users: number[], rounds: number[], rows: readonly RoundRow[]): Matrix {
  return place(matrix(users, rounds, null), rows, (r) => r.likelihood);
}

/** 1 where the user was active, 0 elsewhere. */
export function activityMatrix(users: number[], rounds: number[], rows: readonly RoundRow[]): Matrix {
  return place(matrix(users, rounds, 0), rows, (r) => (r.active ? 1 : 0));
}

/** Likes + replies + posts in the round. */
export function engagementMatrix(users: number[], rounds: number[], rows: readonly RoundRow[]): Matrix {
  return place(matrix(users, rounds, 0), rows, (r) => r.engagement);
}

/** 1 in every round of a period in which the user was treated (warmup rounds are 0). */
export function treatmentMatrix(users: number[], rounds: number[], treated: ReadonlyArray<{ agentId: number; period: number }>, periodOfRound: (round: number) => number | null): Matrix {
  const m = matrix(users, rounds, 0);
  const userIndex = new Map(users.map((u, i) => [u, i]));
  const periods = rounds.map(periodOfRound);
  for (const t of treated) {
    const i = userIndex.get(t.agentId);
    if (i === undefined) continue;
    periods.forEach((p, j) => {
      if (p === t.period) m.cells[i][j] = 1;
    });
  }
  return m;
}

/** The reference wrote likelihoods as floats ("3.0"); integers elsewhere. */
export function formatCell(value: number | null, asFloat: boolean): string {
  if (value === null) return '';
  return asFloat && Number.isInteger(value) ? `${value}.0` : String(value);
}

/** Header: an empty first cell (the user id column), then the rounds. */
export function matrixRecords(m: Matrix, asFloat: boolean): string[][] {
  return [['', ...m.rounds.map(String)], ...m.users.map((u, i) => [String(u), ...m.cells[i].map((c) => formatCell(c, asFloat))])];
}

export const PERSONA_COLUMNS = [
  'user_id',
  'age',
  'gender',
  'race/ethnicity',
  'education',
  'occupation',
  'work_schedule',
  'marital_status',
  'political_stance',
  'interests',
  'close_friends',
  'llm_model',
  'following_count',
  'followers_count',
  'posts_liked_count',
  'posts_replied_to_count',
  'total_content_seen_count',
  'treatment_group',
  'treatment_type',
  'voted',
] as const;

export interface PersonaCounts {
  following: number;
  followers: number;
  liked: number;
  replied: number;
  seen: number;
  treated: number;
  voted: number | null;
}

export function personaRecord(p: Persona, c: PersonaCounts, message: string): string[] {
  return [
    String(p.id),
    String(p.age),
    p.sex,
    p.race,
    p.education,
    p.occupation,
    p.workSchedule,
    p.maritalStatus,
    p.politicalStance,
    p.interests.join(', '),
    p.closeFriends.join(', '),
    p.model,
    String(c.following),
    String(c.followers),
    String(c.liked),
    String(c.replied),
    String(c.seen),
    c.treated ? 'Yes' : 'No',
    c.treated ? message : 'none',
    String(c.voted ?? 0),
  ];
}

/** GraphML of the follow graph (directed), readable by networkx, igraph and Gephi. */
export function graphml(users: number[], edges: ReadonlyArray<[number, number]>): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
    '  <graph id="follows" edgedefault="directed">',
    ...users.map((u) => `    <node id="${u}"/>`),
    ...edges.map(([s, t], i) => `    <edge id="e${i}" source="${s}" target="${t}"/>`),
    '  </graph>',
    '</graphml>',
  ];
  return `${lines.join('\n')}\n`;
}
