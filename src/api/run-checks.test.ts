import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../domain/config.js';
import { ConfigError, UsageError } from '../errors.js';
import { adoptWarmupConfig, checkBaseUrl, parseWithFlags } from './run-checks.js';

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
