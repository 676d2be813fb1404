import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../domain/config.js';
import { UsageError } from '../errors.js';
import { endpointSpecs, parseDuration, parseRate, recordBaseUrls } from './llm-options.js';

describe('LLM serving flags', () => {
  it('reads durations and rates as a user writes them', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(() => parseDuration('10')).toThrow(/--max-outage: "10" is not a duration/);
    expect(() => parseDuration('500ms')).toThrow(UsageError);
    expect(parseRate('2%')).toBe(0.02);
    expect(parseRate('0.05')).toBe(0.05);
    expect(() => parseRate('150%')).toThrow(/--max-fallback-rate/);
  });

  it('takes endpoints from flags, else llm.endpoints, else base_url, else api.openai.com; keys per endpoint', () => {
    const plain = parseExperiment({ provider: 'openai' });
    expect(endpointSpecs(plain, {}, 'key', 32).map((e) => e.url)).toEqual(['https://api.openai.com/v1']);
    const config = parseExperiment({
      provider: 'openai',
      base_url: 'http://old:8000/v1',
      llm: { endpoints: [{ url: 'http://gpu1:8000/v1', max_concurrency: 64 }, { url: 'http://gpu2:8000/v1', api_key_env: 'GPU2_KEY', weight: 2 }] },
    });
    expect(endpointSpecs(config, {}, 'key', 32, { GPU2_KEY: 'other' })).toEqual([
      { url: 'http://gpu1:8000/v1', apiKey: 'key', models: null, maxConcurrency: 64, weight: 1 },
      { url: 'http://gpu2:8000/v1', apiKey: 'other', models: null, maxConcurrency: 32, weight: 2 },
    ]);
    expect(() => endpointSpecs(config, {}, 'key', 32, {})).toThrow(/GPU2_KEY \(api_key_env\) is not set/);
    expect(endpointSpecs(config, { baseUrl: ['http://new:1/v1'] }, 'key', 8).map((e) => [e.url, e.maxConcurrency])).toEqual([['http://new:1/v1', 8]]);
  });

  it('records one --base-url as base_url and several as llm.endpoints', () => {
    const config = parseExperiment({});
    recordBaseUrls(config, ['http://a/v1']);
    expect([config.base_url, config.llm.endpoints]).toEqual(['http://a/v1', []]);
    recordBaseUrls(config, ['http://a/v1', 'http://b/v1']);
    expect([config.base_url, config.llm.endpoints]).toEqual([null, [{ url: 'http://a/v1' }, { url: 'http://b/v1' }]]);
  });

  it('refuses a config whose endpoint URLs are not http(s) or whose models no endpoint serves', () => {
    expect(() => parseExperiment({ llm: { endpoints: [{ url: 'gpu1:8000' }] } })).toThrow(/llm\.endpoints\[0\]\.url: "gpu1:8000" is not an http\(s\) URL/);
    expect(() => parseExperiment({ base_url: 'not a url' })).toThrow(/base_url: "not a url" is not a URL/);
    expect(() => parseExperiment({ llm: { endpoints: [{ url: 'http://a/v1', models: ['gpt-4.1-nano'] }] } })).toThrow(/no endpoint serves model "gpt-4.1-mini"/);
  });
});
