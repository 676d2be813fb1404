import { normalCdf } from '../domain/power.js';
import type { PairedEstimate } from './stats.js';
import { doseTrend, pairedOver, type Trend } from './paired.js';

/** How much of the treatment an untreated user met, measured from the events of the condition. */
export interface Exposure {
  /** Users this user followed at the fork who were treated in the condition. */
  treatedFollowees: number;
  /** Posts by treated users served in this user's feeds (FeedServed) before election day. */
  treatedPostsServed: number;
  /** Times this user was named as a friend who voted in a social message shown to a treated user. */
  namedInSocialMessages: number;
}

/** Dose bins: [label, lowest dose] in increasing order; a bin runs up to the next one's lowest. */
type Bins = ReadonlyArray<[string, number]>;
const COUNT_BINS: Bins = [
  ['0', 0],
  ['1', 1],
  ['2', 2],
  ['3+', 3],
];
// Feeds serve a few posts per turn over 30 rounds: 10 to 15 treated posts is typical in a mixed condition.
const POST_BINS: Bins = [
  ['0-4', 0],
  ['5-9', 5],
  ['10-14', 10],
  ['15+', 15],
];

export const EXPOSURE_MEASURES: ReadonlyArray<{ key: keyof Exposure; label: string; definition: string; bins: Bins }> = [
  { key: 'treatedFollowees', label: 'treated followees', definition: 'users they followed when the condition began who were treated', bins: COUNT_BINS },
  { key: 'treatedPostsServed', label: "treated users' posts served", definition: 'posts by treated users shown in their feeds (FeedServed) before election day', bins: POST_BINS },
  { key: 'namedInSocialMessages', label: 'named in social messages', definition: 'times they were named as a friend in a social message shown to a treated user', bins: COUNT_BINS },
];

export function doseBin(bins: Bins, x: number): string {
  let label = bins[0][0];
  for (const [l, lo] of bins) if (x >= lo) label = l;
  return label;
}

export interface ExposureFigures {
  stream: string;
  measures: Array<{
    measure: string;
    definition: string;
    /** Untreated users by dose bin: their paired difference against themselves in control. */
    bins: Array<{ dose: string; users: number; paired: PairedEstimate | null }>;
    /** The slope of the per-user difference on the dose (uncapped), with an HC0 SE and p-value. */
    trend: Trend | null;
  }>;
}


/**
 * Exposure-aware spillovers for one mixed condition: untreated eligible users who stated a final
 * likelihood under both, grouped by dose, each group's paired difference against control.
 */
export function exposureFigures(stream: string, untreated: readonly number[], exposure: Map<number, Exposure>, condition: Map<number, number>, control: Map<number, number>): ExposureFigures {
  const users = untreated.filter((u) => condition.has(u) && control.has(u));
  const doseOf = (u: number, key: keyof Exposure) => exposure.get(u)?.[key] ?? 0;
  return {
    stream,
    measures: EXPOSURE_MEASURES.map(({ key, label, definition, bins }) => ({
      measure: label,
      definition,
      bins: bins.map(([dose]) => {
        const members = users.filter((u) => doseBin(bins, doseOf(u, key)) === dose);
        return { dose, users: members.length, paired: pairedOver(members, condition, control) };
      }),
      trend: doseTrend(
        users.map((u) => doseOf(u, key)),
        users.map((u) => condition.get(u)! - control.get(u)!),
        normalCdf,
      ),
    })),
  };
}
