import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../domain/config.js';
import { endpointSpecs, recordBaseUrls } from './llm.js';

describe('LLM serving options', () => {
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
