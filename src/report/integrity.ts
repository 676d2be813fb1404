/**
 * The "hash chains verified" statement of a report: the report command verifies every stream it
 * reads before building anything (a broken chain stops it), and says so in report.json and in the
 * page's header, so a published report carries the check with it.
 */
import { IntegrityError, type ChainBreakAt } from '../errors.js';
import type { Store } from '../events/port.js';

export interface HashChainCheck {
  verified: true;
  streams: number;
  events: number;
}

/** The outcome of recomputing streams' hash chains: verified, or where the first break is. */
export type ChainVerification = HashChainCheck | { verified: false; broken: ChainBreakAt };

/** What the check needs of the store (the storage port's integrity methods). */
export type ChainSource = Pick<Store, 'location' | 'verifyStreams' | 'verifyStream'>;

/** Recomputes the hash chains of the streams (in order) and returns the counts, or the first break as data. */
export async function verifyChains(store: ChainSource, ids: readonly string[]): Promise<ChainVerification> {
  let events = 0;
  for (const stream of ids) {
    try {
      events += (await store.verifyStreams([stream])).events;
    } catch (error) {
      if (!(error instanceof IntegrityError)) throw error;
      const at = error.broken ?? (await store.verifyStream(stream));
      if (!at) throw error;
      return { verified: false, broken: { file: store.location, stream, streamPosition: at.streamPosition, position: at.position, reason: at.reason } };
    }
  }
  return hashChainCheck({ streams: ids.length, events });
}

/**
 * Reports and exports call this on every stream they read, so what is published comes from
 * untouched events: the counts, or an IntegrityError whose `broken` says where.
 */
export async function requireChains(store: ChainSource, ids: readonly string[]): Promise<HashChainCheck> {
  const check = await verifyChains(store, ids);
  if (!check.verified) throw new IntegrityError(check.broken);
  return check;
}

function hashChainCheck(counts: { streams: number; events: number }): HashChainCheck {
  return { verified: true, streams: counts.streams, events: counts.events };
}

function hashChainSentence(check: HashChainCheck): string {
  return `hash chains verified: ${check.streams} stream${check.streams === 1 ? '' : 's'}, ${check.events.toLocaleString('en-US')} events recomputed from their stored contents`;
}

/** report.json with `hashChains` right after the fingerprint it vouches for. */
export function withHashChains<T extends object>(report: T, check: HashChainCheck): T & { hashChains: HashChainCheck } {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(report)) {
    out[key] = value;
    if (key === 'fingerprint') out.hashChains = check;
  }
  if (!('hashChains' in out)) out.hashChains = check;
  return out as T & { hashChains: HashChainCheck };
}

/** The page with the sentence as the first line under its title (the header holds the run's identity). */
export function withHashChainLine(html: string, check: HashChainCheck): string {
  const at = html.indexOf('</h1>');
  if (at === -1) throw new Error('report page has no <h1> to put the hash chain line under');
  const end = at + '</h1>'.length;
  return `${html.slice(0, end)}\n<p class="hash-chains">${hashChainSentence(check)}</p>${html.slice(end)}`;
}
