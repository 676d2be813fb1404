import * as crypto from 'node:crypto';

/**
 * JSON with object keys sorted at every level, so the same value always gives the same bytes
 * (hashes, cache keys and fingerprints depend on it). `undefined` members are dropped, as JSON does.
 * Written as a direct serialiser because it runs once per event on the hot path: building sorted
 * copies of every payload first doubled the garbage collector's work.
 */
export function canonicalJson(value: unknown): string {
  return write(value) ?? 'null';
}

function write(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} has no JSON form`);
      // JSON writes a finite number as its String form (-0 as "0" in both).
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      throw new TypeError('canonicalJson: bigint has no JSON form');
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += write(value[i]) ?? 'null';
    }
    return `${out}]`;
  }
  const json = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof json === 'function') return write(json.call(value));
  const keys = Object.keys(value as object);
  // Payloads are mostly built with their keys in order already: sort (which allocates) only if not.
  for (let i = 1; i < keys.length; i++) {
    if (!(keys[i - 1] < keys[i])) {
      keys.sort();
      break;
    }
  }
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = write((value as Record<string, unknown>)[key]);
    if (member === undefined) continue;
    if (!first) out += ',';
    out += `${quotedKey(key)}:${member}`;
    first = false;
  }
  return `${out}}`;
}

/** Object keys as JSON strings, quoted once each: payloads repeat a few dozen keys millions of times. */
const quotedKeys = new Map<string, string>();
const MAX_QUOTED_KEYS = 10_000;

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size < MAX_QUOTED_KEYS) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/**
 * One-shot `crypto.hash` (Node 20.12+) is about 3x faster than a Hash object per call for short
 * inputs; it runs once per event on append and on every chain verification.
 */
const oneShot: ((algorithm: string, data: string, encoding: 'hex') => string) | undefined = typeof crypto.hash === 'function' ? crypto.hash : undefined;

export function sha256(text: string): string {
  return oneShot ? oneShot('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');
}
