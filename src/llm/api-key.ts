import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const KEY_FILE = 'OPENAI_API_KEY.env';

/**
 * The API key: OPENAI_API_KEY from the environment, else from OPENAI_API_KEY.env in the working
 * directory (the reference's convention: a bare key or OPENAI_API_KEY=...). Never stored anywhere.
 */
export function loadApiKey(env: NodeJS.ProcessEnv, cwd: string): string | null {
  const fromEnv = env.OPENAI_API_KEY?.trim();
  if (fromEnv) return fromEnv;
  const file = join(cwd, KEY_FILE);
  if (!existsSync(file)) return null;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const text = line.trim();
    if (!text || text.startsWith('#')) continue;
    const value = text.includes('=') ? text.slice(text.indexOf('=') + 1) : text;
    const key = value.trim().replace(/^['"]|['"]$/g, '');
    if (key) return key;
  }
  return null;
}

/** Removes the key from any text that may reach a user, a log or the database. */
export function redact(text: string, key: string | null): string {
  return key ? text.split(key).join('[redacted]') : text;
}
