import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const KEY_FILE = 'OPENAI_API_KEY.env';

/**
 * The value OPENAI_API_KEY.env.example holds. A copy of the example not yet edited is no key at all:
 * sending it would only earn a 401 (or, with --provider openai left out, it must not switch an LLM on).
 */
export const PLACEHOLDER_KEY = 'sk-your-key-here';

/** Where a key was looked for and what was found: a key, the example's placeholder, or nothing. */
export interface ApiKeyLookup {
  key: string | null;
  /** Where the key (or the placeholder) came from. */
  source: 'OPENAI_API_KEY' | typeof KEY_FILE | null;
  /** The place that holds the example's placeholder instead of a key (then `key` is null). */
  placeholder: 'OPENAI_API_KEY' | typeof KEY_FILE | null;
}

/**
 * The API key: OPENAI_API_KEY from the environment, else from OPENAI_API_KEY.env in the working
 * directory (the reference's convention: a bare key or OPENAI_API_KEY=...). The example's placeholder
 * is no key. Never stored anywhere.
 */
export function findApiKey(env: NodeJS.ProcessEnv, cwd: string): ApiKeyLookup {
  let placeholder: ApiKeyLookup['placeholder'] = null;
  const fromEnv = env.OPENAI_API_KEY?.trim();
  if (fromEnv) {
    if (fromEnv !== PLACEHOLDER_KEY) return { key: fromEnv, source: 'OPENAI_API_KEY', placeholder: null };
    placeholder = 'OPENAI_API_KEY';
  }
  const file = join(cwd, KEY_FILE);
  if (existsSync(file)) {
    const key = keyInFile(readFileSync(file, 'utf8'));
    if (key === PLACEHOLDER_KEY) placeholder ??= KEY_FILE;
    else if (key) return { key, source: KEY_FILE, placeholder: null };
  }
  return { key: null, source: null, placeholder };
}

/** The first key in a key file's text (blank lines and # comments skipped), or null. */
function keyInFile(text: string): string | null {
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const value = trimmed.includes('=') ? trimmed.slice(trimmed.indexOf('=') + 1) : trimmed;
    const key = value.trim().replace(/^['"]|['"]$/g, '');
    if (key) return key;
  }
  return null;
}

export function loadApiKey(env: NodeJS.ProcessEnv, cwd: string): string | null {
  return findApiKey(env, cwd).key;
}

/** Why there is no key, for a message that ends "... (set OPENAI_API_KEY, ...)". */
export function noKeyReason(lookup: ApiKeyLookup): string {
  return lookup.placeholder ? `${lookup.placeholder} holds the example's placeholder ${PLACEHOLDER_KEY}, not a key` : 'no API key';
}

/** Removes the key from any text that may reach a user, a log or the database. */
export function redact(text: string, key: string | null): string {
  return key ? text.split(key).join('[redacted]') : text;
}
