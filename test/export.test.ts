import { spawn, spawnSync } from 'node:child_process';
import { parse } from 'csv-parse/sync';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, runSim, SIM_BIN } from './helpers.js';
import { writeUsersDir } from './support/users-files.js';

const scratch = mkdtempSync(join(tmpdir(), 'sim-export-'));
const users = writeUsersDir(join(scratch, 'users'), 120);
const out = join(scratch, 'out');
const to = join(scratch, 'csv');
const REFERENCE = join(PROJECT_ROOT, '..', 'shared', 'reference', 'llm-sociopol', 'seed_1');
const eventsFile = join(scratch, 'events.jsonl');
const conditions = ['control', 'treatment_soc_message', 'experiment_info_message'];
const args = ['run', '--users-dir', users, '--n-users', '80', '--seed', '3', '--conditions', conditions.join(',')];

beforeAll(() => {
  const run = runSim([...args, '--out', out]);
  expect(run.status, run.stderr).toBe(0);
  const exported = runSim(['export', 'csv', '--out', out, '--to', to]);
  expect(exported.status, exported.stderr).toBe(0);
  expect(exported.stderr).toBe('');
  const logged = runSim(['export', 'events', '--out', out, '--to', eventsFile]);
  expect(logged.status, logged.stderr).toBe(0);
  events = readFileSync(eventsFile, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Line);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const read = (file: string) => parse(readFileSync(file)) as string[][];
const table = (c: string, kind: string) => read(join(to, c, `${c}_${kind}.csv`));

let events: Line[] = [];
interface Line {
  stream: string;
  round: number;
  type: string;
  agent: number | null;
  data: Record<string, unknown>;
}

describe('sim export events', () => {
  it('writes the whole log as JSON Lines, one event per line, streams in order', () => {
    const text = readFileSync(eventsFile, 'utf8');
    expect([...new Set(events.map((e) => e.stream))]).toEqual(['warmup', ...conditions]);
    expect(events[0].type).toBe('PopulationLoaded');
    expect(events.filter((e) => e.type === 'StageStarted').map((e) => e.stream)).toEqual(['warmup', ...conditions]);
    expect(events.filter((e) => e.type === 'StageCompleted')).toHaveLength(4);
    // to standard output when no --to: the same bytes
    const piped = spawnSync(process.execPath, [SIM_BIN, 'export', 'events', '--out', out], { cwd: PROJECT_ROOT, encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(piped.stdout).toBe(text);
  });
});

describe('sim export csv', () => {
  it("writes the reference's files for every condition", () => {
    expect(readdirSync(to).sort()).toEqual([...conditions, 'population_summary.txt'].sort());
    for (const c of conditions) {
      for (const kind of ['voting_data', 'treatment_data', 'activity_data', 'engagement_data', 'personas', 'network']) expect(existsSync(join(to, c, `${c}_${kind}.csv`)), `${c} ${kind}`).toBe(true);
      expect(readFileSync(join(to, c, `${c}_network.graphml`), 'utf8')).toMatch(/<graph id="follows" edgedefault="directed">/);
    }
    expect(readFileSync(join(to, 'population_summary.txt'), 'utf8')).toMatch(/^Population of run 1: 80 users \(seed 3\)/);
    expect(readdirSync(scratch).some((f) => f.includes('partial'))).toBe(false);
  });

  it('has the reference header (an empty first cell, then rounds -15 .. 30) and one row per user, ascending', () => {
    const header = ['', ...Array.from({ length: 46 }, (_, i) => String(i - 15))];
    for (const c of conditions) {
      for (const kind of ['voting_data', 'treatment_data', 'activity_data', 'engagement_data']) {
        const rows = table(c, kind);
        expect(rows[0], `${c} ${kind}`).toEqual(header);
        expect(rows).toHaveLength(81);
        expect(rows.every((r) => r.length === 47)).toBe(true);
        const ids = rows.slice(1).map((r) => Number(r[0]));
        expect(ids).toEqual([...ids].sort((a, b) => a - b));
      }
    }
  });

  // The header above is the layout docs/protocol.md describes; this checks it against the reference's
  // published file when that sits beside the clone (reported as skipped when it does not).
  it.skipIf(!existsSync(REFERENCE))("has the same header as the reference's published voting data", () => {
    expect(table('control', 'voting_data')[0]).toEqual(read(join(REFERENCE, 'control', 'control_voting_data.csv'))[0]);
  });

  it('matches, cell for cell, an independent count from the event log', () => {
    const rounds = Array.from({ length: 46 }, (_, i) => i - 15);
    for (const c of conditions) {
      const streamEvents = events.filter((e) => e.stream === 'warmup' || e.stream === c);
      const cell = new Map<string, { voting: string; active: number; engagement: number }>();
      const at = (agent: number, round: number) => {
        const key = `${agent}:${round}`;
        if (!cell.has(key)) cell.set(key, { voting: '', active: 0, engagement: 0 });
        return cell.get(key)!;
      };
      for (const e of streamEvents) {
        if (e.type === 'VotingIntentionStated') at(e.agent!, e.round).voting = `${e.data.likelihood}.0`;
        if (e.type === 'FeedServed') at(e.agent!, e.round).active = 1;
        if (e.type === 'PostLiked' || e.type === 'PostReplied') at(e.agent!, e.round).engagement += 1;
        if (e.type === 'PostCreated' && e.round >= -15) at(e.data.authorId as number, e.round).engagement += 1;
      }
      const [voting, activity, engagement] = ['voting_data', 'activity_data', 'engagement_data'].map((k) => table(c, k).slice(1));
      voting.forEach((row, i) => {
        const agent = Number(row[0]);
        rounds.forEach((round, j) => {
          const expected = cell.get(`${agent}:${round}`) ?? { voting: '', active: 0, engagement: 0 };
          expect(row[j + 1], `${c} voting ${agent} ${round}`).toBe(expected.voting);
          expect(activity[i][j + 1], `${c} activity ${agent} ${round}`).toBe(String(expected.active));
          expect(engagement[i][j + 1], `${c} engagement ${agent} ${round}`).toBe(String(expected.engagement));
        });
      });
    }
  });

  it('marks treatment per round of each treated period, and nothing in the warmup', () => {
    const personas = table('treatment_soc_message', 'personas');
    const age = new Map(personas.slice(1).map((r) => [r[0], Number(r[1])]));
    for (const row of table('treatment_soc_message', 'treatment_data').slice(1)) {
      expect(row.slice(1, 17).every((x) => x === '0')).toBe(true);
      expect(row.slice(17).every((x) => x === (age.get(row[0])! >= 18 ? '1' : '0'))).toBe(true);
    }
    expect(table('control', 'treatment_data').slice(1).every((r) => r.slice(1).every((x) => x === '0'))).toBe(true);
    // the mixed condition: the treated periods come from TreatmentAssigned; rounds 1-10, 11-20, 21-29, 30
    const assigned = events.filter((e) => e.stream === 'experiment_info_message' && e.type === 'TreatmentAssigned');
    expect(assigned).toHaveLength(4);
    const periodRounds = [[1, 10], [11, 20], [21, 29], [30, 30]];
    const rows = new Map(table('experiment_info_message', 'treatment_data').slice(1).map((r) => [Number(r[0]), r]));
    for (const a of assigned) {
      const treated = new Set(a.data.treatedIds as number[]);
      const [from, until] = periodRounds[(a.data.period as number) - 1];
      for (const [id, row] of rows) for (let r = from; r <= until; r++) expect(row[r + 16], `user ${id} round ${r}`).toBe(treated.has(id) ? '1' : '0');
    }
  });

  it("writes the personas with PROTOCOL's columns, Yes/No treatment group and the vote", () => {
    const personas = table('experiment_info_message', 'personas');
    expect(personas[0]).toEqual([
      'user_id', 'age', 'gender', 'race/ethnicity', 'education', 'occupation', 'work_schedule', 'marital_status', 'political_stance', 'interests',
      'close_friends', 'llm_model', 'following_count', 'followers_count', 'posts_liked_count', 'posts_replied_to_count', 'total_content_seen_count',
      'treatment_group', 'treatment_type', 'voted',
    ]);
    expect(personas).toHaveLength(81);
    const treatedEver = new Set(events.filter((e) => e.stream === 'experiment_info_message' && e.type === 'TreatmentAssigned').flatMap((e) => e.data.treatedIds as number[]));
    const voted = new Map(events.filter((e) => e.stream === 'experiment_info_message' && e.type === 'VoteCast').map((e) => [e.agent!, e.data.voted ? '1' : '0']));
    for (const row of personas.slice(1)) {
      const id = Number(row[0]);
      expect(row[17]).toBe(treatedEver.has(id) ? 'Yes' : 'No');
      expect(row[18]).toBe(treatedEver.has(id) ? 'informational' : 'none');
      expect(row[19]).toBe(voted.get(id) ?? '0');
    }
  });

  it('writes the follow graph at the end of the condition', () => {
    const edges = table('control', 'network');
    expect(edges[0]).toEqual(['source', 'target']);
    const following = new Map(table('control', 'personas').slice(1).map((r) => [r[0], Number(r[12])]));
    const outDegree = new Map<string, number>();
    for (const [s] of edges.slice(1)) outDegree.set(s, (outDegree.get(s) ?? 0) + 1);
    for (const [id, n] of following) expect(outDegree.get(id) ?? 0, `user ${id}`).toBe(n);
    const xml = readFileSync(join(to, 'control', 'control_network.graphml'), 'utf8');
    expect(xml.match(/<edge /g)?.length ?? 0).toBe(edges.length - 1);
  });

  it('refuses to write into a non-empty folder without --force, and leaves it as it was', () => {
    const marker = join(to, 'mine.txt');
    writeFileSync(marker, 'keep');
    const again = runSim(['export', 'csv', '--out', out, '--to', to]);
    expect(again.status).toBe(2);
    expect(again.stderr.trim()).toBe(`sim: --to ${to}: the folder is not empty (use --force to replace it)`);
    expect(readFileSync(marker, 'utf8')).toBe('keep');
    expect(runSim(['export', 'csv', '--out', out, '--to', to, '--force']).status).toBe(0);
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses an unknown run id in one line, writing nothing', () => {
    const result = runSim(['export', 'csv', '99', '--out', out, '--to', join(scratch, 'nope')]);
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/no run with id 99/);
    expect(existsSync(join(scratch, 'nope'))).toBe(false);
  });
});

describe('writing where it cannot', () => {
  it('says so in one line and leaves no partial file', () => {
    const blocker = join(scratch, 'a-file');
    writeFileSync(blocker, '');
    const events = runSim(['export', 'events', '--out', out, '--to', join(blocker, 'log.jsonl')]);
    expect(events.status).toBe(2);
    expect(events.stderr.trim()).toBe(`sim: --to ${join(blocker, 'log.jsonl')}: cannot write there (${blocker} is a file, not a folder)`);
    const csv = runSim(['export', 'csv', '--out', out, '--to', join(blocker, 'csv')]);
    expect(csv.status).toBe(2);
    expect(csv.stderr.trim()).toBe(`sim: --to ${join(blocker, 'csv')}: cannot write there (${blocker} is a file, not a folder)`);
    expect(readdirSync(scratch).some((f) => f.includes('partial'))).toBe(false);
  });
});

describe('sim show user', () => {
  it("prints one user's persona, feeds, decisions, treatment, likelihoods and vote", () => {
    const voter = events.find((e) => e.stream === 'treatment_soc_message' && e.type === 'VoteCast')!;
    const id = voter.agent!;
    const result = runSim(['show', 'user', String(id), '--condition', 'treatment_soc_message', '--out', out]);
    expect(result.status, result.stderr).toBe(0);
    // the persona as fields, not JSON
    expect(result.stdout).toMatch(new RegExp(`persona of user ${id}:\\n {2}age +\\d+\\n`));
    expect(result.stdout).not.toContain('{"');
    expect(result.stdout).toMatch(/== run\/1\/warmup ==[\s\S]*== run\/1\/treatment_soc_message ==/);
    expect(result.stdout).toMatch(/round \d+: saw posts /);
    expect(result.stdout).toMatch(/treated in period 1 \(social\)/);
    expect(result.stdout).toContain(voter.data.voted ? 'VOTED' : 'did not vote');
    const stated = events.filter((e) => (e.stream === 'warmup' || e.stream === 'treatment_soc_message') && e.type === 'VotingIntentionStated' && e.agent === id);
    expect(result.stdout).toContain(`likelihood over time (round:value): ${stated.map((e) => `${e.round}:${e.data.likelihood}`).join(' ')}`);
  });

  it('refuses a user or condition the run does not have', () => {
    expect(runSim(['show', 'user', '100000', '--out', out]).stderr).toMatch(/user 100000 is not in run 1/);
    expect(runSim(['show', 'user', '1', '--condition', 'nope', '--out', out]).stderr).toMatch(/"nope" is not a condition of run 1/);
  });
});

describe('exporting an unfinished run', () => {
  /** Kills `sim run` once it has printed `afterLines` round progress lines (rounds are lines on stderr). */
  function runAndKill(dir: string, afterLines: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [SIM_BIN, ...args, '--out', dir], { cwd: PROJECT_ROOT, env: { ...process.env, OPENAI_API_KEY: '' } });
      let lines = 0;
      child.stderr.on('data', (chunk: Buffer) => {
        lines += chunk.toString().split('\n').filter((l) => / agents /.test(l)).length;
        if (lines >= afterLines) child.kill('SIGKILL');
      });
      child.on('error', reject);
      child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error('the run finished before it was killed'))));
    });
  }

  it('exports what exists and names the streams and rounds that are missing', async () => {
    const dir = join(scratch, 'killed');
    // 16 warmup rounds, then 31 lines per condition: this stops inside control
    await runAndKill(dir, 24);
    const target = join(scratch, 'killed-csv');
    const result = runSim(['export', 'csv', '--out', dir, '--to', target]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^sim: run 1 is not finished: control \(rounds \d+\.\.30 and the election missing\); treatment_soc_message \(not started: rounds 1\.\.30 and the election missing\); experiment_info_message \(not started: rounds 1\.\.30 and the election missing\); exported what exists/);
    expect(readdirSync(target).sort()).toEqual(['control', 'population_summary.txt']);
    const voting = read(join(target, 'control', 'control_voting_data.csv'));
    expect(voting[0]).toHaveLength(47);
    const missingFrom = Number(/control \(rounds (\d+)\.\.30/.exec(result.stderr)![1]);
    // nothing stated in the rounds that never ran
    expect(voting.slice(1).every((r) => r.slice(missingFrom + 16).every((x) => x === ''))).toBe(true);
    expect(voting.slice(1).some((r) => r.slice(1, 17).some((x) => x !== ''))).toBe(true);
  }, 60_000);
});
