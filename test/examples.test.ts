import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../src/domain/config.js';
import { PROJECT_ROOT, runSim } from './helpers.js';

/** The config files in examples/ must stay valid as the config evolves: parsed by the real parser. */
const dir = join(PROJECT_ROOT, 'examples');
const read = (name: string) => parseExperiment(JSON.parse(readFileSync(join(dir, name), 'utf8')), name);

describe('examples/', () => {
  it('holds only configs the parser accepts', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(['openai.json', 'vllm-local.json', 'vllm-three-servers.json']);
    for (const f of files) expect(() => read(f), f).not.toThrow();
  });

  it('openai.json: api.openai.com, a price for every model it names', () => {
    const c = read('openai.json');
    expect(c.provider).toBe('openai');
    expect(c.base_url).toBeNull();
    for (const model of Object.values(c.llm.models)) expect(c.llm.prices[model], model).toBeDefined();
  });

  it('vllm-local.json: a server on 127.0.0.1, one model for every tier, free', () => {
    const c = read('vllm-local.json');
    expect(c.provider).toBe('openai');
    expect(new URL(c.base_url!).hostname).toBe('127.0.0.1');
    const models = new Set(Object.values(c.llm.models));
    expect(models.size).toBe(1);
    const [model] = models;
    expect(c.llm.prices[model]).toEqual({ input: 0, cached_input: 0, output: 0 });
  });

  it('vllm-three-servers.json: every model served by some endpoint, one key named by variable, no key in the file', () => {
    const c = read('vllm-three-servers.json');
    expect(c.llm.endpoints.map((e) => new URL(e.url).host)).toEqual(['gpu1:8000', 'gpu2:8000', 'gpu3:8000']);
    for (const model of new Set(Object.values(c.llm.models))) expect(c.llm.endpoints.some((e) => e.models?.includes(model)), model).toBe(true);
    expect(c.llm.endpoints.map((e) => e.api_key_env ?? null)).toEqual([null, null, 'GPU3_KEY']);
    expect(readFileSync(join(dir, 'vllm-three-servers.json'), 'utf8')).not.toMatch(/sk-|api_key"/);
  });

  it('is accepted by `sim run --config ... --dry-run`, which estimates without calling anyone', () => {
    const result = runSim(['run', '--config', join(dir, 'vllm-local.json'), '--dry-run', '--n-users', '50']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Qwen\/Qwen2\.5-7B-Instruct 100\.0% of calls/);
  }, 180_000);
});
