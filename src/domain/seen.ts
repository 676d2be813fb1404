/**
 * Compact per-agent sets of post ids, for a world of a million agents (docs/performance.md, "The
 * million"). V8's Maps and Sets cost about 40-60 bytes per entry and a few hundred bytes empty; these
 * are plain arrays of numbers, ascending, 8 bytes per entry, never changed once made: a change makes
 * a new array (copy-on-write, like the rest of the world), and every empty one is the same array.
 *
 * `Seen` (post id -> the post's reply count when the agent last saw it) packs each entry into one
 * number, postId x 2^22 + replies: exact as a double (post ids < 2^31), in post id order. A post's
 * replies are one per agent at most, so counts stay under 2^22 while the population does.
 */
export type Seen = readonly number[];
/** Post ids, ascending (the posts an agent liked, or replied to). */
export type PostIdSet = readonly number[];

const REPLIES = 4_194_304; // 2^22

export const EMPTY: readonly number[] = Object.freeze([]) as readonly number[];

/** The reply count recorded for `postId`, or undefined when the agent never saw it. */
export function seenReplies(seen: Seen, postId: number): number | undefined {
  let lo = 0;
  let hi = seen.length - 1;
  const min = postId * REPLIES;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = seen[mid];
    if (v < min) lo = mid + 1;
    else if (v >= min + REPLIES) hi = mid - 1;
    else return v - min;
  }
  return undefined;
}

/** Calls `f` for each entry, in post id order. */
export function forEachSeen(seen: Seen, f: (postId: number, replies: number) => void): void {
  for (let i = 0; i < seen.length; i++) {
    const v = seen[i];
    const postId = Math.floor(v / REPLIES);
    f(postId, v - postId * REPLIES);
  }
}

/** The entries as [postId, replies] pairs, in post id order. */
export function seenEntries(seen: Seen): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  forEachSeen(seen, (postId, replies) => out.push([postId, replies]));
  return out;
}

/** A new Seen with `entries` recorded (a later entry for a post replaces an earlier one). */
export function seenWith(seen: Seen, entries: ReadonlyArray<readonly [number, number]>): Seen {
  if (entries.length === 0) return seen;
  const add: number[] = [];
  for (const [postId, replies] of entries) {
    if (!Number.isInteger(postId) || postId < 0 || postId >= 2 ** 31) throw new Error(`PostsSeen: post id ${postId} out of range`);
    if (!Number.isInteger(replies) || replies < 0 || replies >= REPLIES) throw new Error(`PostsSeen: reply count ${replies} out of range (0 to ${REPLIES - 1})`);
    add.push(postId * REPLIES + replies);
  }
  // Stable insertion sort by post id (entries are a feed's few posts, usually ascending already).
  for (let i = 1; i < add.length; i++) {
    const v = add[i];
    const key = Math.floor(v / REPLIES);
    let j = i - 1;
    for (; j >= 0 && Math.floor(add[j] / REPLIES) > key; j--) add[j + 1] = add[j];
    add[j + 1] = v;
  }
  return mergeBy(seen, add, (v) => Math.floor(v / REPLIES));
}

/** `set` with `id` added (the same array when it is already there). */
export function withId(set: PostIdSet, id: number): PostIdSet {
  const at = insertionIndex(set, id);
  if (set[at] === id) return set;
  const out = new Array<number>(set.length + 1);
  for (let i = 0; i < at; i++) out[i] = set[i];
  out[at] = id;
  for (let i = at; i < set.length; i++) out[i + 1] = set[i];
  return out;
}

/** `set` without `id` (the same array when it is not there). */
export function withoutId(set: PostIdSet, id: number): PostIdSet {
  const at = insertionIndex(set, id);
  if (set[at] !== id) return set;
  if (set.length === 1) return EMPTY;
  const out = new Array<number>(set.length - 1);
  for (let i = 0; i < at; i++) out[i] = set[i];
  for (let i = at + 1; i < set.length; i++) out[i - 1] = set[i];
  return out;
}

/** The union of two ascending id lists, ascending, without duplicates. */
export function unionIds(a: PostIdSet, b: readonly number[]): PostIdSet {
  return b.length === 0 ? a : mergeBy(a, b, (v) => v);
}

/**
 * Merges two ascending lists by key into a new exact-size array; on equal keys the later ones win
 * (the last of `add` with that key replaces the entry of `base`).
 */
function mergeBy(base: readonly number[], add: readonly number[], key: (v: number) => number): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < base.length || j < add.length) {
    if (j >= add.length) out.push(base[i++]);
    else if (i >= base.length) pushReplacing(out, add[j++], key);
    else {
      const kb = key(base[i]);
      const ka = key(add[j]);
      if (kb < ka) out.push(base[i++]);
      else if (kb > ka) pushReplacing(out, add[j++], key);
      else i++; // replaced by add[j], pushed next
    }
  }
  // An exact-size copy: push leaves spare capacity, and these arrays live as long as the world.
  return out.slice();
}

function pushReplacing(out: number[], v: number, key: (v: number) => number): void {
  if (out.length > 0 && key(out[out.length - 1]) === key(v)) out[out.length - 1] = v;
  else out.push(v);
}

export function insertionIndex(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
