import Database from 'better-sqlite3';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSim, simBinFor } from './helpers.js';
import { writeUsersDir } from './support/users-files.js';

/**
 * What reports and exports refuse: a database whose events were altered (item 2 of issue 12), and
 * places they cannot write to (item 3). Each refusal is one line, names what the user gave, and
 * leaves nothing behind.
 */
const scratch = mkdtempSync(join(tmpdir(), 'sim-refusals-'));
const users = writeUsersDir(join(scratch, 'users'), 120);
const out = join(scratch, 'out');
const runArgs = ['--users-dir', users, '--n-users', '60', '--seed', '3'];
/** Each test spawns `sim` up to six times; on a loaded 2-core machine one spawn can take 20 s. */
const SPAWNS = 300_000;

beforeAll(() => {
  const run = runSim(['run', ...runArgs, '--conditions', 'control,treatment_soc_message', '--out', out]);
  expect(run.status, run.stderr).toBe(0);
}, SPAWNS);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the recorded output directory, to damage without touching the others. */
function copyOfOut(name: string): string {
  const dir = join(scratch, name);
  cpSync(out, dir, { recursive: true });
  return dir;
}

function sql<T>(dir: string, query: string, ...params: unknown[]): T[] {
  const db = new Database(join(dir, 'sim.db'));
  try {
    const statement = db.prepare(query);
    if (statement.reader) return statement.all(...params) as T[];
    statement.run(...params);
    return [];
  } finally {
    db.close();
  }
}

/** Everything under `dir`, recursively: to show that a refused command left nothing. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).sort();
}

describe('a database with an altered event', () => {
  let dir: string;
  let expected: string;
  let before: string[];
  let target: { position: number; stream_position: number; payload: string };
  beforeAll(() => {
    dir = copyOfOut('tampered');
    // The first stated likelihood of the control condition, changed by one point.
    [target] = sql<{ position: number; stream_position: number; payload: string }>(
      dir,
      "select position, stream_position, payload from events where stream_id = 'run/1/control' and type = 'VotingIntentionStated' order by stream_position limit 1",
    );
    const likelihood = (JSON.parse(target.payload) as { likelihood: number }).likelihood;
    sql(dir, 'update events set payload = ? where position = ?', JSON.stringify({ likelihood: likelihood === 4 ? 3 : likelihood + 1 }), target.position);
    expected = `sim: ${join(dir, 'sim.db')}: stream run/1/control is broken at stream position ${target.stream_position} (event ${target.position}): hash does not match its contents and predecessor`;
    before = listing(scratch);
  }, SPAWNS);

  it('is named by `sim project`, the message the others must give', () => {
    const project = runSim(['project', '--out', dir]);
    expect(project.status).toBe(1);
    expect(project.stderr.trim()).toBe(expected);
  }, SPAWNS);

  it('`sim report` refuses with the same message and writes nothing', () => {
    const to = join(scratch, 'report-of-tampered');
    const result = runSim(['report', '--out', dir, '--to', to]);
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(expected);
    expect(result.stdout).toBe('');
    expect(existsSync(to)).toBe(false);
    expect(existsSync(join(dir, 'report'))).toBe(false);
  }, SPAWNS);

  it('`sim export csv` refuses with the same message and writes nothing', () => {
    const to = join(scratch, 'csv-of-tampered');
    const result = runSim(['export', 'csv', '--out', dir, '--to', to]);
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(expected);
    expect(existsSync(to)).toBe(false);
  }, SPAWNS);

  it('`sim export events` refuses with the same message, to a file or to standard output, and writes nothing', () => {
    const to = join(scratch, 'events-of-tampered.jsonl');
    const toFile = runSim(['export', 'events', '--out', dir, '--to', to]);
    expect(toFile.status).toBe(1);
    expect(toFile.stderr.trim()).toBe(expected);
    expect(existsSync(to)).toBe(false);
    const toStdout = runSim(['export', 'events', '--out', dir]);
    expect(toStdout.status).toBe(1);
    expect(toStdout.stderr.trim()).toBe(expected);
    expect(toStdout.stdout).toBe('');
    expect(listing(scratch)).toEqual(before);
  }, SPAWNS);

  it('`sim runs --verify` marks the run and names the event, as a line and as data', () => {
    const result = runSim(['runs', '--verify', '--json', '--out', dir]);
    // A damaged database is exit 1 (README), so a script checking the store sees it.
    expect(result.status).toBe(1);
    const [run] = JSON.parse(result.stdout) as Array<{ chains: { checked: string; ok: boolean; problem: string } }>;
    expect(run.chains).toEqual({
      checked: 'events',
      ok: false,
      broken: { file: join(dir, 'sim.db'), stream: 'run/1/control', streamPosition: target.stream_position, position: target.position, reason: 'hash does not match its contents and predecessor' },
      problem: expected.replace(/^sim: /, ''),
    });
    expect(result.stderr).toContain(`sim: run 1: ${expected.replace(/^sim: /, '')}`);
  }, SPAWNS);
});

describe('a database whose stored head does not match its events', () => {
  it('is marked BROKEN by a plain `sim runs`, naming the stream', () => {
    const dir = copyOfOut('truncated');
    const [last] = sql<{ position: number; stream_position: number }>(dir, "select position, stream_position from events where stream_id = 'run/1/treatment_soc_message' order by stream_position desc limit 1");
    sql(dir, 'delete from events where position = ?', last.position);
    const table = runSim(['runs', '--out', dir]);
    expect(table.status).toBe(1);
    const [, , row] = table.stdout.trimEnd().split('\n');
    expect(row).toMatch(/^ *1 +3 +finished .* BROKEN$/);
    expect(table.stderr.trim()).toBe(
      `sim: run 1: stream run/1/treatment_soc_message: head says ${last.stream_position} events, its last event is at position ${last.stream_position - 1} (its fingerprint is not trustworthy; \`sim project 1 --out ${dir}\` names the first bad event)`,
    );
    // the intact original: ok, nothing on stderr
    const intact = runSim(['runs', '--out', out]);
    expect(intact.status).toBe(0);
    expect(intact.stdout.trimEnd().split('\n')[2]).toMatch(/ ok$/);
    expect(intact.stderr).toBe('');
  }, SPAWNS);
});

describe('a run started from another run’s warmup', () => {
  it('is refused when that warmup was altered: the report reads it too', () => {
    const dir = join(scratch, 'forked');
    expect(runSim(['run', ...runArgs, '--warmup-only', '--out', dir]).status).toBe(0);
    const forked = runSim(['run', ...runArgs, '--from-warmup', '1', '--conditions', 'control', '--out', dir]);
    expect(forked.status, forked.stderr).toBe(0);
    const [target] = sql<{ position: number; stream_position: number }>(dir, "select position, stream_position from events where stream_id = 'run/1/warmup' and type = 'PostLiked' order by stream_position limit 1");
    sql(dir, `update events set payload = '{"postId":999999}' where position = ?`, target.position);
    const to = join(scratch, 'report-of-forked');
    const result = runSim(['report', '2', '--out', dir, '--to', to]);
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(`sim: ${join(dir, 'sim.db')}: stream run/1/warmup is broken at stream position ${target.stream_position} (event ${target.position}): hash does not match its contents and predecessor`);
    expect(existsSync(to)).toBe(false);
  }, SPAWNS);
});

describe('an intact database', () => {
  it('gets a report that says its hash chains were verified, in report.json and under the page title', () => {
    const to = join(scratch, 'report');
    const result = runSim(['report', '--out', out, '--to', to]);
    expect(result.status, result.stderr).toBe(0);
    // counted independently: every event of the run's three streams
    const [{ n }] = sql<{ n: number }>(out, "select count(*) as n from events where stream_id like 'run/1/%'");
    const report = JSON.parse(readFileSync(join(to, 'report.json'), 'utf8')) as Record<string, unknown>;
    expect(report.hashChains).toEqual({ verified: true, streams: 3, events: n });
    expect(Object.keys(report).indexOf('hashChains')).toBe(Object.keys(report).indexOf('fingerprint') + 1);
    const html = readFileSync(join(to, 'report.html'), 'utf8');
    expect(html).toContain(`<h1>Run 1</h1>\n<p class="hash-chains">hash chains verified: 3 streams, ${n.toLocaleString('en-US')} events recomputed from their stored contents</p>`);
  }, SPAWNS);
});

describe('writing where it cannot', () => {
  /** Runs a command and checks the one-line usage error, naming the path given, with nothing written. */
  function refused(args: string[], message: string): void {
    const before = listing(scratch);
    const result = runSim(args);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr.trim()).toBe(message);
    expect(result.stderr).not.toMatch(/partial|unexpected error/);
    expect(listing(scratch)).toEqual(before);
  }

  it('`export csv --to` a file: a folder is needed', () => {
    const file = join(scratch, 'plain-file');
    writeFileSync(file, 'mine');
    refused(['export', 'csv', '--out', out, '--to', file], `sim: --to ${file}: cannot write there (it is a file; --to takes a folder)`);
    expect(readFileSync(file, 'utf8')).toBe('mine');
  }, SPAWNS);

  it('`export events --to` a folder: a file name is needed', () => {
    const folder = join(scratch, 'a-folder');
    mkdirSync(folder);
    writeFileSync(join(folder, 'kept.txt'), 'kept');
    refused(['export', 'events', '--out', out, '--to', folder], `sim: --to ${folder}: cannot write there (it is a folder; --to takes a file name)`);
    expect(readdirSync(folder)).toEqual(['kept.txt']);
  }, SPAWNS);

  it('a path under a file, for each command', () => {
    const file = join(scratch, 'blocker');
    writeFileSync(file, '');
    for (const [args, to] of [
      [['export', 'events', '--out', out], join(file, 'log.jsonl')],
      [['export', 'csv', '--out', out], join(file, 'csv')],
      [['report', '--out', out], join(file, 'report')],
    ] as const) {
      refused([...args, '--to', to], `sim: --to ${to}: cannot write there (${file} is a file, not a folder)`);
    }
  }, SPAWNS);

  it('`report --to` a file', () => {
    const file = join(scratch, 'report-file');
    writeFileSync(file, 'mine');
    refused(['report', '--out', out, '--to', file], `sim: --to ${file}: cannot write there (it is a file; --to takes a folder)`);
  }, SPAWNS);

  it('`report --to` and `export csv --to` a read-only folder', (context) => {
    // root writes anywhere, so as root the commands run as "nobody", on a copy of the output it owns
    const asRoot = process.getuid?.() === 0;
    const as: { uid?: number; gid?: number; bin?: string; cwd?: string } = {};
    if (asRoot) {
      chmodSync(scratch, 0o755);
      // A clone inside a folder only root can enter (mktemp -d) is out of nobody's reach: a readable copy of sim then.
      const sim = simBinFor({ uid: 65534, gid: 65534 }, scratch);
      if ('skip' in sim) {
        console.warn(`read-only folder cases skipped: ${sim.skip}`);
        context.skip(sim.skip);
        return;
      }
      Object.assign(as, { uid: 65534, gid: 65534, bin: sim.bin, cwd: scratch });
    }
    const dir = copyOfOut('for-nobody');
    const readOnly = join(scratch, 'read-only');
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o555);
    if (asRoot) for (const f of [dir, ...listing(dir).map((f) => join(dir, f))]) chownSync(f, 65534, 65534);
    const cases = [
      [['report', '--out', dir, '--to', readOnly], readOnly],
      [['export', 'events', '--out', dir, '--to', join(readOnly, 'events.jsonl')], join(readOnly, 'events.jsonl')],
      [['export', 'csv', '--out', dir, '--to', join(readOnly, 'csv')], join(readOnly, 'csv')],
    ] as const;
    for (const [args, to] of cases) {
      const result = runSim([...args], as);
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr.trim()).toBe(`sim: --to ${to}: cannot write there (EACCES: permission denied)`);
      expect(readdirSync(readOnly)).toEqual([]);
    }
    expect(statSync(readOnly).mode & 0o777).toBe(0o555);
  }, SPAWNS);
});
