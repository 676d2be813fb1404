import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExperiment } from '../src/domain/config.js';
import { costOf } from '../src/llm/cost.js';
import { EventStore } from '../src/sim/store.js';
import pgDriver from 'pg';
import { PROJECT_ROOT, runSimAsync, SIM_BIN, sqliteOf } from './helpers.js';
import { freshPostgresDatabase, postgresForTests, postgresRequired } from './support/store-backends.js';
import { startFakeServer, type FakeServer } from './support/fake-openai-server.js';
import { writeUsersDir } from './support/users-files.js';

/**
 * Money is spent only when asked for (docs/llm.md, "Cost"): an API key alone never switches an LLM
 * on, the example's placeholder is no key, a paid run says its estimate first and goes on only with
 * --provider openai, --yes or a yes on a terminal, and --max-cost stops a run at a round boundary
 * before its spend passes the cap. The fake server stands for OpenAI: the default models and their
 * prices (config llm.prices) make every run here a paid one.
 */
const KEY = 'sk-test-SECRET-spend';
const scratch = mkdtempSync(join(tmpdir(), 'sim-spend-'));
const users = writeUsersDir(join(scratch, 'users'), 60);
let server: FakeServer;
beforeAll(async () => {
  server = await startFakeServer({ apiKey: KEY });
});
afterAll(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

const PRICES = parseExperiment({}).llm.prices;
const experiment = ['--users-dir', users, '--n-users', '40', '--seed', '4', '--conditions', 'control', '--num-contents', '3'];
/** The environment of a researcher with a key exported, and the fake server where OpenAI would be. */
const env = { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: '' };
const withServer = () => ({ OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url });

/** What the answers in a store's cache cost at the default prices: every answer in a fresh store was paid for once. */
async function cacheCost(out: string): Promise<number> {
  const store = await EventStore.open(out);
  try {
    const rows = await sqliteOf(store).db.selectFrom('llm_cache').select(['model', 'prompt_tokens', 'completion_tokens', 'cached_tokens']).execute();
    return rows.reduce((sum, r) => sum + costOf({ promptTokens: r.prompt_tokens, completionTokens: r.completion_tokens, cachedTokens: r.cached_tokens }, PRICES[r.model]), 0);
  } finally {
    await store.close();
  }
}

async function recordedSpend(out: string, runId = 1): Promise<number> {
  const store = await EventStore.open(out);
  try {
    return await store.runSpend(runId);
  } finally {
    await store.close();
  }
}

async function runsOf(out: string): Promise<Array<{ id: number; status: string; fingerprint: string }>> {
  return JSON.parse((await runSimAsync(['runs', '--json', '--out', out])).stdout) as Array<{ id: number; status: string; fingerprint: string }>;
}

describe('spending money must be asked for', { timeout: 600_000 }, () => {
  it('a key in the environment alone runs offline, says the key was not used and how to use it, and sends nothing', async () => {
    const out = join(scratch, 'env-key');
    const before = server.requests;
    // OPENAI_BASE_URL points at the fake server: a request would be counted there.
    const result = await runSimAsync(['run', ...experiment, '--out', out], { env: withServer() });
    expect(result.status, result.stderr).toBe(0);
    // The store first (every command that writes names it first), then what was done with the key.
    expect(result.stderr.split('\n').slice(0, 2)).toEqual([`sim: store ${join(out, 'sim.db')}`, 'sim: OPENAI_API_KEY holds an API key, not used: offline model (--provider openai for the LLM)']);
    expect(result.stdout).toMatch(/decisions by the offline persona model/);
    expect(server.requests).toBe(before);
  });

  it('an unedited copy of OPENAI_API_KEY.env.example is no key: offline by default, and --provider openai says the file holds the placeholder', async () => {
    const cwd = join(scratch, 'placeholder');
    mkdirSync(cwd);
    copyFileSync(join(PROJECT_ROOT, 'OPENAI_API_KEY.env.example'), join(cwd, 'OPENAI_API_KEY.env'));
    const offline = await runSimAsync(['run', ...experiment, '--out', join(cwd, 'out')], { cwd, env: { OPENAI_BASE_URL: server.url } });
    expect(offline.status, offline.stderr).toBe(0);
    expect(offline.stderr).toMatch(/^sim: OPENAI_API_KEY\.env holds the example's placeholder sk-your-key-here, not a key: using the offline persona model$/m);
    const before = server.requests;
    const asked = await runSimAsync(['run', ...experiment, '--provider', 'openai', '--base-url', server.url, '--out', join(cwd, 'llm')], { cwd });
    expect(asked.status).toBe(2);
    expect(asked.stderr.trim()).toBe(
      "sim: --provider openai: OPENAI_API_KEY.env holds the example's placeholder sk-your-key-here, not a key (set OPENAI_API_KEY, or `cp OPENAI_API_KEY.env.example OPENAI_API_KEY.env` and put it there)",
    );
    expect(existsSync(join(cwd, 'llm'))).toBe(false);
    expect(server.requests).toBe(before);
  });

  it('a validation error is one line: the no-key notice is not printed before it', async () => {
    const result = await runSimAsync(['run', '--users-dir', join(scratch, 'no-such-users'), '--out', join(scratch, 'refused')]);
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^sim: --users-dir \S+: no such folder/);
  });

  it('a config naming a paid LLM prints its estimate and, without a terminal or --yes, is refused with nothing written; --yes runs it', async () => {
    const config = join(scratch, 'openai.json');
    writeFileSync(config, JSON.stringify({ provider: 'openai' }));
    const out = join(scratch, 'config-paid');
    const before = server.requests;
    const refused = await runSimAsync(['run', ...experiment, '--config', config, '--out', out], { env: withServer() });
    expect(refused.status).toBe(2);
    const lines = refused.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^sim: estimate: [\d,]+ LLM calls, [\d,]+ tokens, \$\d+\.\d{2,4} at config prices \(--dry-run: details\)$/);
    expect(lines[1]).toMatch(/^sim: this run would spend about \$\d+\.\d{2,4} on LLM calls, not asked for: add --yes \(or --provider openai\) to spend it; nothing was written$/);
    expect(lines).toHaveLength(2);
    expect(existsSync(out)).toBe(false);
    expect(server.requests).toBe(before);
    // The estimate is the dry run's.
    const dry = await runSimAsync(['run', ...experiment, '--config', config, '--out', out, '--dry-run'], { env: withServer() });
    const dryCost = Number(/estimated cost\s+\$(\d+\.\d\d)/.exec(dry.stdout)![1]);
    expect(Number(/, \$(\d+\.\d+) at config prices/.exec(lines[0])![1])).toBeCloseTo(dryCost, 2);

    const yes = await runSimAsync(['run', ...experiment, '--config', config, '--out', out, '--yes'], { env: withServer() });
    expect(yes.status, yes.stderr).toBe(0);
    expect(yes.stderr.split('\n')[0]).toMatch(/^sim: estimate: /);
    expect(server.requests).toBeGreaterThan(before + 100);
  });

  it.skipIf(!existsSync('/usr/bin/script'))('on a terminal the same run asks: no writes nothing, yes runs it', async () => {
    const CURSOR_MOVES = new RegExp(`${String.fromCharCode(27)}\\[\\d*[A-Za-z]`, 'g');
    const config = join(scratch, 'openai-tty.json');
    writeFileSync(config, JSON.stringify({ provider: 'openai' }));
    /** `sim run` on a pseudo-terminal (util-linux script), typing `answer` once the question is up. */
    const onTerminal = (out: string, answer: string) =>
      new Promise<{ status: number | null; output: string }>((resolve) => {
        const command = [process.execPath, SIM_BIN, 'run', ...experiment, '--config', config, '--out', out].map((a) => `'${a}'`).join(' ');
        const child = spawn('/usr/bin/script', ['-qec', command, '/dev/null'], { cwd: PROJECT_ROOT, env: { ...process.env, ...withServer() } });
        let output = '';
        child.stdout.on('data', (c: Buffer) => {
          // Without readline's cursor movements.
          output += c.toString().replace(CURSOR_MOVES, '');
          if (/\[y\/N\] $/.test(output)) child.stdin.end(`${answer}\n`);
        });
        // script keeps the terminal open while its input is: a run that never asks must not hang the test.
        const timer = setTimeout(() => child.stdin.end(), 60_000);
        child.on('close', (status) => {
          clearTimeout(timer);
          resolve({ status, output });
        });
      });
    const before = server.requests;
    const no = await onTerminal(join(scratch, 'tty-no'), 'n');
    expect(no.status, no.output).toBe(2);
    expect(no.output).toMatch(/sim: estimate: [\d,]+ LLM calls[^\n]*\r?\nsim: spend about \$\d+\.\d+ on LLM calls\? \[y\/N\] n/);
    expect(no.output).toMatch(/not asked for: add --yes/);
    expect(existsSync(join(scratch, 'tty-no'))).toBe(false);
    expect(server.requests).toBe(before);
    const yes = await onTerminal(join(scratch, 'tty-yes'), 'y');
    expect(yes.status, yes.output).toBe(0);
    expect(server.requests).toBeGreaterThan(before + 100);
  });

  it('--provider openai is the ask: the estimate is printed and the run goes on; what it spent is recorded with the run', async () => {
    const out = join(scratch, 'full');
    const result = await runSimAsync(['run', ...experiment, '--provider', 'openai', '--base-url', server.url, '--out', out], { env });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr.split('\n')[0]).toMatch(/^sim: estimate: [\d,]+ LLM calls/);
    const paid = await cacheCost(out);
    expect(paid).toBeGreaterThan(0);
    expect(await recordedSpend(out)).toBeCloseTo(paid, 10);
  });

  it('replay --new-run of a paid run is new spending: its estimate, then refused without a terminal or --yes, nothing written; --yes runs it', async () => {
    // A copy: the runs below price the cache of 'full' as one run's.
    const out = join(scratch, 'replay-new');
    cpSync(join(scratch, 'full'), out, { recursive: true });
    const before = server.requests;
    const refused = await runSimAsync(['replay', '--seed', '5', '--new-run', '--base-url', server.url, '--out', out], { env });
    expect(refused.status, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/^sim: estimate: [\d,]+ LLM calls/m);
    expect(refused.stderr.trim().split('\n').at(-1)).toMatch(/^sim: this new run would spend about \$[\d.]+ on LLM calls, not asked for: add --yes \(or --provider openai\) to spend it; nothing was written$/);
    expect(server.requests).toBe(before);
    expect((await runsOf(out)).map((r) => r.id)).toEqual([1]);
    const yes = await runSimAsync(['replay', '--seed', '5', '--new-run', '--yes', '--base-url', server.url, '--out', out], { env });
    expect(yes.status, yes.stderr).toBe(0);
    expect(server.requests).toBeGreaterThan(before);
    expect((await runsOf(out)).map((r) => r.id)).toEqual([1, 2]);
  });

  it('a server whose models have no price costs nothing: no estimate, no question', async () => {
    const config = join(scratch, 'local.json');
    // Models the price table (llm.prices) does not name: a local server's.
    writeFileSync(config, JSON.stringify({ provider: 'openai', llm: { models: { low: 'local-7b', mid: 'local-7b', high: 'local-70b' } } }));
    const result = await runSimAsync(['run', ...experiment, '--config', config, '--out', join(scratch, 'local')], { env: withServer() });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/^sim: estimate|would spend/m);
  });

  it('--max-cost stops at a round boundary before the spend passes the cap (exit 4), and `sim resume --max-cost MORE` finishes with the uncapped fingerprint', async () => {
    const full = join(scratch, 'full');
    const fullCost = await cacheCost(full);
    const [uncapped] = await runsOf(full);
    const cap = Number((fullCost * 0.4).toFixed(6));
    const out = join(scratch, 'capped');
    const before = server.requests;
    const capped = await runSimAsync(['run', ...experiment, '--provider', 'openai', '--base-url', server.url, '--max-cost', String(cap), '--out', out], { env });
    expect(capped.status, capped.stderr).toBe(4);
    const line = capped.stderr.trim().split('\n').at(-1)!;
    const m = /^sim: stopped at the spending cap before round (-?\d+) of (\w+): spent \$(\d+\.\d{4}) of \$(\d+\.\d{4}) \(--max-cost\); the rest would cost about \$(\d+\.\d{4}): `sim resume 1 --out \S+ --max-cost (\d+\.\d{4})` continues$/.exec(line);
    expect(m, line).not.toBeNull();
    const spent = await recordedSpend(out);
    // Every answer the capped run received was paid for once, and the total stays within the cap.
    expect(spent).toBeCloseTo(await cacheCost(out), 10);
    expect(spent).toBeLessThanOrEqual(cap);
    expect(spent).toBeGreaterThan(0);
    expect(m![3]).toBe(spent.toFixed(4));
    console.info(`full run $${fullCost}, cap $${cap}, spent $${spent}, rest about $${m![5]}`);
    expect(server.requests).toBeGreaterThan(before);
    const [stopped] = await runsOf(out);
    expect(stopped.status).toBe('interrupted');

    // The cap is the run's total: resuming under the same (recorded) cap stops again before asking anything.
    const again = server.requests;
    const same = await runSimAsync(['resume', '--out', out, '--base-url', server.url], { env });
    expect(same.status, same.stderr).toBe(4);
    expect(server.requests).toBe(again);

    // A cap that covers the rest (the suggested one is spent plus the rest's estimate plus 20%: about enough).
    const resumed = await runSimAsync(['resume', '--out', out, '--base-url', server.url, '--max-cost', String(fullCost * 3)], { env });
    expect(resumed.status, resumed.stderr).toBe(0);
    const [finished] = await runsOf(out);
    expect(finished.status).toBe('finished');
    expect(finished.fingerprint).toBe(uncapped.fingerprint);
    expect(await recordedSpend(out)).toBeCloseTo(await cacheCost(out), 10);

    // Cached answers cost nothing: the same experiment again in this folder runs under a cap of 0.
    const requests = server.requests;
    const cached = await runSimAsync(['run', ...experiment, '--provider', 'openai', '--base-url', server.url, '--max-cost', '0', '--out', out], { env });
    expect(cached.status, cached.stderr).toBe(0);
    expect(server.requests).toBe(requests);
    expect((await runsOf(out))[1].fingerprint).toBe(uncapped.fingerprint);
  });
});

const pg = postgresForTests();
const pgSkip = pg.url || postgresRequired ? null : pg.reason;
if (pgSkip) console.warn(`the worker's spending cap test is skipped: ${pgSkip}`);

describe.skipIf(pgSkip !== null)('a worker honours the spending cap of the run it executes', { timeout: 600_000 }, () => {
  const children: ChildProcessWithoutNullStreams[] = [];
  const drops: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const drop of drops) await drop().catch(() => undefined);
  });

  it('its jobs stop at the cap as capped (not failed, not retried), within it, and `sim resume --max-cost MORE` finishes with the fingerprint of one process', async () => {
    if (!pg.url) throw new Error(`SIM_REQUIRE_POSTGRES=1 but ${pg.reason}`);
    const db = await freshPostgresDatabase(pg.url);
    drops.push(db.drop);
    const full = join(scratch, 'full');
    const fullCost = await cacheCost(full);
    const [uncapped] = await runsOf(full);
    const cap = Number((fullCost * 0.4).toFixed(6));
    const submitted = await runSimAsync(['submit', ...experiment, '--provider', 'openai', '--max-cost', String(cap), '--store', db.url, '--takeover', '60'], { env: withServer() });
    expect(submitted.status, submitted.stderr).toBe(0);

    const child = spawn(process.execPath, [SIM_BIN, 'worker', '--store', db.url, '--name', 'capped', '--takeover', '20', '--out', join(scratch, 'workers')], { cwd: PROJECT_ROOT, env: { ...process.env, ...withServer() } });
    children.push(child);
    let output = '';
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const status = async () => JSON.parse((await runSimAsync(['status', '--json', '--store', db.url])).stdout) as Array<{ status: string; streams: Array<{ stream: string; state: string; attempts: number }> }>;
    for (let waited = 0; ; waited += 1000) {
      const [run] = await status();
      if (run.status === 'interrupted' && run.streams.every((s) => s.state !== 'running' && s.state !== 'queued')) break;
      if (waited > 300_000) throw new Error(`the capped run did not stop: ${JSON.stringify(run)}\n${output}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    // Stopped, not failed: nothing waits to be retried, and the worker stays up for other work.
    const [run] = await status();
    expect(run.streams.map((s) => s.state)).not.toContain('failed');
    expect(output).toMatch(/run 1 \w+: stopped at the spending cap before round -?\d+ of \w+: spent \$\d+\.\d+ of \$\d+\.\d+ \(--max-cost\); the rest would cost about \$\d+\.\d+: `sim resume 1 --store URL --max-cost \d+\.\d+` continues/);
    const client = new pgDriver.Client({ connectionString: db.url });
    await client.connect();
    let paid: number;
    let spent: number;
    try {
      const rows = (await client.query<{ model: string; prompt_tokens: number; completion_tokens: number; cached_tokens: number }>('select model, prompt_tokens, completion_tokens, cached_tokens from llm_cache')).rows;
      paid = rows.reduce((sum, r) => sum + costOf({ promptTokens: r.prompt_tokens, completionTokens: r.completion_tokens, cachedTokens: r.cached_tokens }, PRICES[r.model]), 0);
      spent = Number((await client.query<{ spent_usd: number }>('select spent_usd from run_spend where run_id = 1')).rows[0].spent_usd);
    } finally {
      await client.end();
    }
    expect(spent).toBeCloseTo(paid, 10);
    expect(spent).toBeLessThanOrEqual(cap);
    expect(spent).toBeGreaterThan(0);
    child.kill('SIGTERM');
    expect(await exited, output).toBe(0);

    const resumed = await runSimAsync(['resume', '1', '--store', db.url, '--base-url', server.url, '--max-cost', String(fullCost * 3), '--out', join(scratch, 'resumed')], { env });
    expect(resumed.status, resumed.stderr).toBe(0);
    const [finished] = JSON.parse((await runSimAsync(['runs', '--json', '--store', db.url])).stdout) as Array<{ status: string; fingerprint: string }>;
    expect(finished).toMatchObject({ status: 'finished', fingerprint: uncapped.fingerprint });
  });
});
