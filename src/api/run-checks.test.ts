import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../domain/config.js';
import { ConfigError, UsageError } from '../errors.js';
import { adoptWarmupConfig, checkBaseUrl, checkRunMemory, checkThreadMemory, parseWithFlags } from './run-checks.js';

const warmup = { runId: 4, config: parseExperiment({ n_users: 200, seed: 7, users_dir: 'u', feed: { length: 6 }, content: { initial_posts: 9 } }) };

describe('adoptWarmupConfig', () => {
  it("takes the warmup's population and warmup settings, and keeps the conditions' own", () => {
    const asked = parseExperiment({ run_conditions: ['control'], treatment_seed: 3, messages: { social_max_friends: 2 } });
    const c = adoptWarmupConfig(asked, {}, null, undefined, warmup);
    expect([c.n_users, c.seed, c.users_dir, c.feed.length, c.content.initial_posts]).toEqual([200, 7, 'u', 6, 9]);
    expect([c.run_conditions, c.treatment_seed, c.messages.social_max_friends]).toEqual([['control'], 3, 2]);
  });

  it('lets a flag or config key repeat the recorded value, and refuses another one', () => {
    // What was asked: the config file's feed and the flags, over the defaults.
    const same = parseExperiment({ n_users: 200, seed: 7, feed: { length: 6 } });
    expect(adoptWarmupConfig(same, { nUsers: 200, seed: 7 }, { feed: { length: 6 } }, 'c.json', warmup).n_users).toBe(200);
    const other = parseExperiment({ n_users: 1000, seed: 1, feed: { length: 4 } });
    expect(() => adoptWarmupConfig(other, { nUsers: 1000, seed: 1 }, { feed: { length: 4 } }, 'c.json', warmup)).toThrow(
      /these conflict with it: --n-users 1000, --seed 1, c\.json: feed \(/,
    );
    expect(() => adoptWarmupConfig(same, { warmupOnly: true }, null, undefined, warmup)).toThrow(UsageError);
  });
});

describe('parseWithFlags', () => {
  it('names the flag, not the config key, with a usage error', () => {
    const merged = { ...parseExperiment({}), n_users: -5, feed: { ...parseExperiment({}).feed, length: 0 } };
    expect(() => parseWithFlags(merged, 'flags')).toThrow(new UsageError('--n-users: must be at least 2; --feed-length: must be at least 1'));
  });
});

describe('checkBaseUrl', () => {
  it('accepts http and https URLs only', () => {
    expect(() => checkBaseUrl('http://127.0.0.1:8000/v1', { flag: '--base-url' })).not.toThrow();
    expect(() => checkBaseUrl('https://api.example.org/v1', { flag: '--base-url' })).not.toThrow();
    expect(() => checkBaseUrl('file:///etc/passwd', { flag: '--base-url' })).toThrow(UsageError);
    expect(() => checkBaseUrl('127.0.0.1:8000', { file: 'm.json' })).toThrow(ConfigError);
    expect(() => checkBaseUrl('', { flag: 'OPENAI_BASE_URL' })).toThrow(/OPENAI_BASE_URL: "" is not a URL/);
  });
});

describe('checkRunMemory', () => {
  const GB = 2 ** 30;
  const machine = { heapBytes: 4 * GB, machineBytes: 24 * GB };
  it('refuses a size no heap here holds, naming the flag typed, the estimate and the machine', () => {
    const huge = parseExperiment({ n_users: 100, content: { initial_posts: 100_000_000 } });
    expect(() => checkRunMemory(huge, { numContents: 100_000_000 }, machine)).toThrow(
      new UsageError('--num-contents 100000000: the run would need about 270 GB of memory (100,000,000 initial posts x 2.9 KB), more than this machine has (24.0 GB); use a smaller value'),
    );
    // Without the flag, the config key is named.
    expect(() => checkRunMemory(huge, {}, machine)).toThrow(/^content\.initial_posts 100000000: the run would need/);
  });

  it('says how to raise the heap limit when the machine has the memory', () => {
    const big = parseExperiment({ n_users: 100, content: { initial_posts: 2_000_000 } });
    // 100 MiB + 2,000,000 x 2,900 B + small parts = 5,632 MiB (5.5 GB); 1.25 x that is 7,040 MB, rounded up to 8,000.
    expect(() => checkRunMemory(big, { numContents: 2_000_000 }, machine)).toThrow(
      /^--num-contents 2000000: the run would need about 5\.5 GB of memory \(2,000,000 initial posts x 2\.9 KB\), more than Node's heap limit \(4\.0 GB\); use a smaller value, or raise the limit: NODE_OPTIONS=--max-old-space-size=8000 \(MB; this machine has 24\.0 GB\)$/,
    );
    expect(() => checkRunMemory(big, {}, { heapBytes: 8 * GB, machineBytes: 24 * GB })).not.toThrow();
  });

  it('names the rounds and n_runs when they drive the estimate, and lets the default run pass', () => {
    expect(() => checkRunMemory(parseExperiment({ warmup: { start_round: -100_000_000, end_round: 0 } }), {}, machine)).toThrow(/^warmup -100000000\.\.0 and time_points up to 30: the run would need about [\d,]+ GB/);
    expect(() => checkRunMemory(parseExperiment({ n_runs: 1e9 }), {}, machine)).toThrow(/^n_runs 1000000000: the run would need/);
    expect(() => checkRunMemory(parseExperiment({}), {}, machine)).not.toThrow();
  });

  it('agrees with the README: a few hundred thousand agents fit the default heap (4,144 MB here), a million do not', () => {
    const defaultHeap = { heapBytes: 4144 * 2 ** 20, machineBytes: 24 * GB };
    expect(() => checkRunMemory(parseExperiment({ n_users: 300_000 }), { nUsers: 300_000 }, defaultHeap)).not.toThrow();
    expect(() => checkRunMemory(parseExperiment({ n_users: 1_000_000 }), { nUsers: 1_000_000 }, defaultHeap)).toThrow(/^--n-users 1000000: the run would need about 4\.1 GB of memory \(1,000,000 agents x 2\.5 KB\), more than Node's heap limit \(4\.0 GB\); use a smaller value, or raise the limit: NODE_OPTIONS=--max-old-space-size=6000/);
  });
});

describe('checkThreadMemory', () => {
  const GB = 2 ** 30;
  const machine = { heapBytes: 4 * GB, machineBytes: 24 * GB };
  it('refuses more threads than the machine holds copies of the world, saying how many fit', () => {
    expect(() => checkThreadMemory('--workers', 1000, 1000, 0.5 * GB, machine)).toThrow(
      new UsageError('--workers 1000: 1000 threads would need about 500 GB of memory (each holds its own world, about 0.5 GB), more than this machine has (24.0 GB); use at most 48'),
    );
    // Only the threads that start count: 1000 asked, 5 condition streams.
    expect(() => checkThreadMemory('--workers', 1000, 5, 0.5 * GB, machine)).not.toThrow();
    expect(() => checkThreadMemory('--workers', undefined, 1000, 0.5 * GB, machine)).not.toThrow();
  });
});
