import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../package-root.js';
import { findApiKey, loadApiKey, PLACEHOLDER_KEY, redact } from './api-key.js';

const dir = mkdtempSync(join(tmpdir(), 'sim-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('API key', () => {
  it('comes from the environment first, then OPENAI_API_KEY.env (bare or KEY=value)', () => {
    expect(loadApiKey({ OPENAI_API_KEY: ' sk-env ' }, dir)).toBe('sk-env');
    expect(loadApiKey({}, dir)).toBeNull();
    writeFileSync(join(dir, 'OPENAI_API_KEY.env'), '# my key\nOPENAI_API_KEY="sk-file"\n');
    expect(loadApiKey({}, dir)).toBe('sk-file');
    writeFileSync(join(dir, 'OPENAI_API_KEY.env'), 'sk-bare\n');
    expect(loadApiKey({ OPENAI_API_KEY: '' }, dir)).toBe('sk-bare');
  });
  it("is not the example's placeholder: an unedited copy of OPENAI_API_KEY.env.example (or the placeholder exported) is no key", () => {
    const example = readFileSync(join(PACKAGE_ROOT, 'OPENAI_API_KEY.env.example'), 'utf8');
    expect(example).toContain(PLACEHOLDER_KEY);
    writeFileSync(join(dir, 'OPENAI_API_KEY.env'), example);
    expect(loadApiKey({}, dir)).toBeNull();
    expect(findApiKey({}, dir)).toEqual({ key: null, source: null, placeholder: 'OPENAI_API_KEY.env' });
    expect(findApiKey({ OPENAI_API_KEY: PLACEHOLDER_KEY }, dir)).toEqual({ key: null, source: null, placeholder: 'OPENAI_API_KEY' });
    // A real key in the environment wins over the placeholder file, and is said to come from there.
    expect(findApiKey({ OPENAI_API_KEY: 'sk-real' }, dir)).toEqual({ key: 'sk-real', source: 'OPENAI_API_KEY', placeholder: null });
    writeFileSync(join(dir, 'OPENAI_API_KEY.env'), 'OPENAI_API_KEY=sk-edited\n');
    expect(findApiKey({ OPENAI_API_KEY: PLACEHOLDER_KEY }, dir)).toEqual({ key: 'sk-edited', source: 'OPENAI_API_KEY.env', placeholder: null });
  });
  it('is redacted from any text', () => {
    expect(redact('bad key sk-123 rejected (sk-123)', 'sk-123')).toBe('bad key [redacted] rejected ([redacted])');
  });
});
