import { parse } from 'csv-parse/sync';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ProfileRow, UserFiles } from '../domain/population/types.js';
import { InputFileError, type InputProblem } from '../errors.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { byteExcerpt, excerpt, looksBinary } from './excerpt.js';

export type { ProfileRow, UserFiles } from '../domain/population/types.js';

/** The bundled default population (resolved from the package, not from the working directory). */
export const DEFAULT_USERS_DIR = join(PACKAGE_ROOT, 'users_data');

export const PROFILE_COLUMNS = [
  'user_id',
  'age',
  'sex',
  'race',
  'education',
  'occupation',
  'workclass',
  'marital_status',
  'relationship',
  'native_country',
  'hours_per_week',
  'political_stance',
  'interests',
  'close_friends',
  'public_profile',
] as const;

/** Columns a profiles.csv may add: a persona's model and work schedule. */
const OPTIONAL_COLUMNS = ['model', 'work_schedule'] as const;
type ProfileColumn = (typeof PROFILE_COLUMNS)[number] | (typeof OPTIONAL_COLUMNS)[number];

const MAX_PROBLEMS = 20;

/** Collects problems by file and line, keeping the first 20 and counting the rest. */
class Problems {
  readonly list: InputProblem[] = [];
  more = 0;
  add(file: string, line: number | null, problem: string): void {
    if (this.list.length < MAX_PROBLEMS) this.list.push({ file, line, problem });
    else this.more += 1;
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw new InputFileError(this.list, this.more);
  }
}

/**
 * Loads profiles.csv and network.csv in the reference's format and validates every row before
 * anything runs: a bad file stops the run with each problem named by file and line. With `keep`,
 * which picks users from the validated profiles (a run's sample), `follows` holds only the edges
 * among them, in the same order: every edge is still read and validated, but a run's 1,000 users
 * do not pay for building and collecting the 20,000-user population's 400,000 edges.
 */
export function loadUsersDir(dir: string, keep?: (profiles: readonly ProfileRow[]) => ReadonlySet<number>): UserFiles {
  const problems = new Problems();
  const profilesFile = join(dir, 'profiles.csv');
  const networkFile = join(dir, 'network.csv');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputFileError([{ file: dir, line: null, problem: 'no such users directory (it should hold profiles.csv and network.csv)' }]);
  for (const file of [profilesFile, networkFile]) if (!existsSync(file)) problems.add(file, null, 'file is missing');
  problems.throwIfAny();

  const profiles = readProfiles(profilesFile, problems);
  problems.throwIfAny();
  const ids = new Set(profiles.map((p) => p.row.userId));
  for (const { row, line } of profiles) {
    for (const friend of row.closeFriends) {
      if (!ids.has(friend)) problems.add(profilesFile, line, `close_friends names user ${friend}, who is not in the file`);
      else if (friend === row.userId) problems.add(profilesFile, line, `close_friends lists the user itself (${friend})`);
    }
  }
  const rows = profiles.map((p) => p.row);
  const follows = readNetwork(networkFile, ids, problems, keep?.(rows) ?? null);
  problems.throwIfAny();
  return { profiles: rows, follows, source: dir };
}

function readCsv(file: string, problems: Problems): { header: string[]; records: Array<{ cells: string[]; line: number }> } | null {
  let parsed: Array<{ record: string[]; info: { lines: number } }>;
  const bytes = readFileSync(file);
  if (looksBinary(bytes)) {
    problems.add(file, null, `is a binary file, not CSV text (it starts with "${byteExcerpt(bytes)}")`);
    return null;
  }
  try {
    parsed = simpleCsv(bytes) ?? (parse(bytes, { info: true, relax_column_count: true, skip_empty_lines: true, bom: true }) as never);
  } catch (error) {
    const e = error as Error & { lines?: number };
    // csv-parse quotes the whole offending field: show only its start, printable.
    const message = e.message.replace(/^Invalid /, 'invalid ').replace(/value is "([\s\S]*)"$/, (_, value: string) => `value starts "${excerpt(value)}"`);
    problems.add(file, e.lines ?? null, `not valid CSV: ${excerpt(message, 300)}`);
    return null;
  }
  if (parsed.length === 0) {
    problems.add(file, 1, 'empty file: a header line is required');
    return null;
  }
  const header = parsed[0].record.map((h) => h.trim());
  return { header, records: parsed.slice(1).map((p) => ({ cells: p.record, line: p.info.lines })) };
}

/**
 * csv-parse's records (with the options readCsv gives it) for a file in the plain form sim and the
 * reference write: lines ended by "\n", fields quoted whole or not at all, no line break inside a
 * field. Parsing the 20,000-user population took a worker about a second per run through csv-parse;
 * this takes a fraction of it. Anything else (CR line ends, a quote inside a field, a quoted field
 * spanning lines, an unterminated quote) returns null and goes to csv-parse, which also words the errors.
 */
export function simpleCsv(bytes: Buffer): Array<{ record: string[]; info: { lines: number } }> | null {
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.includes('\r')) return null;
  const out: Array<{ record: string[]; info: { lines: number } }> = [];
  let line = 0;
  // The next quote at or after the line's start (searched again only once passed: no rescans to the end).
  let quote = -1;
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    line += 1;
    if (quote !== text.length && quote < start) {
      quote = text.indexOf('"', start);
      if (quote === -1) quote = text.length;
    }
    if (end > start) {
      const record = quote >= end ? text.slice(start, end).split(',') : simpleLine(text, start, end);
      if (!record) return null;
      out.push({ record, info: { lines: line } });
    }
    start = end + 1;
  }
  return out;
}

/** The fields of text[start, end), or null when the line is not in the plain form. */
function simpleLine(text: string, start: number, end: number): string[] | null {
  const fields: string[] = [];
  let at = start;
  for (;;) {
    if (text.charCodeAt(at) === 34) {
      // A quoted field: up to the quote that is not doubled, then a comma or the line's end.
      let value = '';
      let from = at + 1;
      for (;;) {
        const close = text.indexOf('"', from);
        if (close === -1 || close >= end) return null;
        value += text.slice(from, close);
        if (text.charCodeAt(close + 1) === 34 && close + 1 < end) {
          value += '"';
          from = close + 2;
          continue;
        }
        at = close + 1;
        break;
      }
      fields.push(value);
      if (at === end) return fields;
      if (text.charCodeAt(at) !== 44) return null;
      at += 1;
    } else {
      let comma = text.indexOf(',', at);
      if (comma === -1 || comma > end) comma = end;
      const value = text.slice(at, comma);
      if (value.includes('"')) return null;
      fields.push(value);
      if (comma === end) return fields;
      at = comma + 1;
    }
  }
}

function readProfiles(file: string, problems: Problems): Array<{ row: ProfileRow; line: number }> {
  const csv = readCsv(file, problems);
  if (!csv) return [];
  const column = new Map(csv.header.map((h, i) => [h, i]));
  const missing = PROFILE_COLUMNS.filter((c) => !column.has(c));
  if (missing.length > 0) {
    problems.add(file, 1, `missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    return [];
  }
  // Each column's index, looked up once rather than once a cell.
  const at = Object.fromEntries([...PROFILE_COLUMNS, ...OPTIONAL_COLUMNS].map((c) => [c, column.get(c) ?? -1])) as Record<ProfileColumn, number>;
  const seen = new Map<number, number>();
  const out: Array<{ row: ProfileRow; line: number }> = [];
  for (const { cells, line } of csv.records) {
    if (cells.length !== csv.header.length) {
      problems.add(file, line, `has ${cells.length} cells but the header has ${csv.header.length}`);
      continue;
    }
    const cell = (name: ProfileColumn) => (cells[at[name]] ?? '').trim();
    const bad = (what: string) => problems.add(file, line, what);

    const userId = parseInteger(cell('user_id'));
    if (userId === null) bad(`user_id "${excerpt(cell('user_id'))}" is not an integer`);
    else if (seen.has(userId)) bad(`duplicate user_id ${userId} (first on line ${seen.get(userId)})`);
    const age = parseInteger(cell('age'));
    if (age === null) bad(`age "${excerpt(cell('age'))}" is not an integer`);
    else if (age < 0 || age > 120) bad(`age ${age} is out of range (0-120)`);
    const hours = Number(cell('hours_per_week'));
    if (cell('hours_per_week') === '' || !Number.isFinite(hours) || hours < 0 || hours > 168) bad(`hours_per_week "${excerpt(cell('hours_per_week'))}" is not a number of hours (0-168)`);
    const interests = parseList(cell('interests'));
    if (interests.length === 0) bad('interests is empty (list at least one, e.g. "Politics, Technology")');
    const friends = parseList(cell('close_friends'));
    const closeFriends: number[] = [];
    for (const f of friends) {
      const id = parseInteger(f);
      if (id === null) bad(`close_friends has "${excerpt(f)}", which is not a user id`);
      else closeFriends.push(id);
    }
    if (userId === null || age === null) continue;
    seen.set(userId, line);
    const row: ProfileRow = {
      userId,
      age,
      sex: cell('sex'),
      race: cell('race'),
      education: cell('education'),
      occupation: cell('occupation'),
      workclass: cell('workclass'),
      maritalStatus: cell('marital_status'),
      relationship: cell('relationship'),
      nativeCountry: cell('native_country'),
      hoursPerWeek: hours,
      politicalStance: cell('political_stance'),
      interests,
      closeFriends,
      publicProfile: cell('public_profile'),
    };
    if (at.model !== -1 && cell('model') !== '') row.model = cell('model');
    if (at.work_schedule !== -1 && cell('work_schedule') !== '') row.workSchedule = cell('work_schedule');
    out.push({ row, line });
  }
  if (out.length === 0 && problems.list.length === 0) problems.add(file, null, 'holds no users');
  return out;
}

/**
 * The edges of a network.csv in sim's own form (the two columns, then lines of two unsigned ids
 * naming known users, no self-loops), read straight from the text; null for anything else, which
 * readNetwork reads through the CSV parser and words the problems of.
 */
function plainNetwork(bytes: Buffer, ids: Set<number>, kept: ReadonlySet<number> | null): Array<[number, number]> | null {
  // Read as bytes (ASCII digits, commas, line feeds): no 4 MB string to make and collect.
  let at = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const newline = bytes.indexOf(10, at);
  if (newline === -1) return null;
  const header = bytes.toString('latin1', at, newline).split(',').map((h) => h.trim());
  const swapped = header[0] === 'target_user_id';
  if (header.length !== 2 || !((header[0] === 'source_user_id' && header[1] === 'target_user_id') || (swapped && header[1] === 'source_user_id'))) return null;
  const member = membership(ids, kept);
  const edges: Array<[number, number]> = [];
  const unique = new Map<number, Set<number>>();
  const end = bytes.length;
  at = newline + 1;
  while (at < end) {
    let c = bytes[at];
    if (c === 10) {
      at += 1;
      continue;
    }
    let a = 0;
    let digits = 0;
    for (; c >= 48 && c <= 57; c = bytes[++at], digits++) a = a * 10 + (c - 48);
    if (digits === 0 || digits > 15 || c !== 44) return null;
    c = bytes[++at];
    let b = 0;
    digits = 0;
    for (; c >= 48 && c <= 57; c = bytes[++at], digits++) b = b * 10 + (c - 48);
    if (digits === 0 || digits > 15 || !(c === 10 || at >= end)) return null;
    at += 1;
    const source = swapped ? b : a;
    const target = swapped ? a : b;
    const both = member(source) & member(target);
    if (source === target || both === 0) return null;
    if (both === KNOWN) continue;
    let targets = unique.get(source);
    if (!targets) unique.set(source, (targets = new Set()));
    if (targets.has(target)) continue;
    targets.add(target);
    edges.push([source, target]);
  }
  return edges;
}

/** What membership() says of an id: unknown (0), a user (KNOWN), a user whose edges are kept (KNOWN | KEPT). */
const KNOWN = 1;
const KEPT = 2;

/**
 * An id's membership, looked up 800,000 times for a 400,000-edge network: in a table by id when
 * the ids are small non-negative integers (as sim's and the reference's are), else in the sets.
 */
function membership(ids: Set<number>, kept: ReadonlySet<number> | null): (id: number) => number {
  let max = -1;
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= 1 << 24) {
      max = -1;
      break;
    }
    if (id > max) max = id;
  }
  if (max === -1) return (id) => (ids.has(id) ? (kept === null || kept.has(id) ? KNOWN | KEPT : KNOWN) : 0);
  const table = new Uint8Array(max + 1);
  for (const id of ids) table[id] = kept === null || kept.has(id) ? KNOWN | KEPT : KNOWN;
  return (id) => (id <= max ? table[id] : 0);
}

function readNetwork(file: string, ids: Set<number>, problems: Problems, kept: ReadonlySet<number> | null): Array<[number, number]> {
  const bytes = readFileSync(file);
  const plain = looksBinary(bytes) ? null : plainNetwork(bytes, ids, kept);
  if (plain) return plain;
  const csv = readCsv(file, problems);
  if (!csv) return [];
  const source = csv.header.indexOf('source_user_id');
  const target = csv.header.indexOf('target_user_id');
  if (source === -1 || target === -1) {
    problems.add(file, 1, `missing column${source === -1 && target === -1 ? 's' : ''} ${[source === -1 ? 'source_user_id' : '', target === -1 ? 'target_user_id' : ''].filter(Boolean).join(', ')}`);
    return [];
  }
  const edges: Array<[number, number]> = [];
  // The targets each source already follows (a set per source: 400,000 pair keys cost more to make and collect).
  const unique = new Map<number, Set<number>>();
  for (const { cells, line } of csv.records) {
    const s = parseInteger((cells[source] ?? '').trim());
    const t = parseInteger((cells[target] ?? '').trim());
    if (s === null || t === null) {
      problems.add(file, line, `edge "${excerpt(cells.join(','))}" does not name two user ids`);
      continue;
    }
    if (!ids.has(s)) problems.add(file, line, `source_user_id ${s} is not a user in profiles.csv`);
    if (!ids.has(t)) problems.add(file, line, `target_user_id ${t} is not a user in profiles.csv`);
    if (s === t) problems.add(file, line, `self-loop: user ${s} follows itself`);
    if (kept && !(kept.has(s) && kept.has(t))) continue;
    let targets = unique.get(s);
    if (!targets) unique.set(s, (targets = new Set()));
    if (targets.has(t)) continue;
    targets.add(t);
    edges.push([s, t]);
  }
  return edges;
}

function parseInteger(text: string): number | null {
  return /^[+-]?\d+$/.test(text) ? Number(text) : null;
}

/** "a, b", "['a', 'b']" and "[1, 2]" are all lists (the reference wrote Python lists). */
export function parseList(text: string): string[] {
  // The common plain form, "a, b" without brackets or quotes, needs no pattern per item.
  if (!/['"\[\]]/.test(text)) return text.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
  const inner = text.trim().replace(/^\[/, '').replace(/\]$/, '');
  return inner
    .split(',')
    .map((item) => item.trim().replace(/^['"]|['"]$/g, '').trim())
    .filter((item) => item.length > 0);
}
