/**
 * The "hash chains verified" statement of a report: the report command verifies every stream it
 * reads before building anything (a broken chain stops it), and says so in report.json and in the
 * page's header, so a published report carries the check with it.
 */
export interface HashChainCheck {
  verified: true;
  streams: number;
  events: number;
}

export function hashChainCheck(counts: { streams: number; events: number }): HashChainCheck {
  return { verified: true, streams: counts.streams, events: counts.events };
}

export function hashChainSentence(check: HashChainCheck): string {
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
