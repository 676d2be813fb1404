import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadApiKey, redact } from './api-key.js';

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
  it('is redacted from any text', () => {
    expect(redact('bad key sk-123 rejected (sk-123)', 'sk-123')).toBe('bad key [redacted] rejected ([redacted])');
  });
});
