import type { EventStore } from '../events/store.js';
import type { Exposure } from './exposure.js';

/**
 * Reads, from one condition stream and the warmup it forked from, what each user was exposed to:
 * posts by treated users served in their feeds before `electionRound`, and how often they were
 * named in social messages. `treated` is who the condition treated; `following` the follow lists at
 * the fork. Payloads are read with SQLite's json_extract so the stream is not parsed event by event.
 */
export function readExposure(store: EventStore, warmupStream: string, conditionStream: string, electionRound: number, treated: ReadonlySet<number>, following: Map<number, number[]>): Map<number, Exposure> {
  const author = new Map<number, number>();
  const posts = store.sqlite.prepare<[string], { post: number; author: number }>(
    "select json_extract(payload, '$.postId') as post, json_extract(payload, '$.authorId') as author from events where stream_id = ? and type = 'PostCreated'",
  );
  for (const stream of [warmupStream, conditionStream]) for (const r of posts.iterate(stream)) author.set(r.post, r.author);

  const out = new Map<number, Exposure>();
  const of = (u: number) => {
    let e = out.get(u);
    if (!e) {
      e = { treatedFollowees: (following.get(u) ?? []).filter((t) => treated.has(t)).length, treatedPostsServed: 0, namedInSocialMessages: 0 };
      out.set(u, e);
    }
    return e;
  };
  for (const u of following.keys()) of(u);
  const feeds = store.sqlite.prepare<[string, number], { agent: number; payload: string }>("select agent_id as agent, payload from events where stream_id = ? and type = 'FeedServed' and round < ?");
  for (const r of feeds.iterate(conditionStream, electionRound)) {
    const ids = (JSON.parse(r.payload) as { postIds: number[] }).postIds;
    const n = ids.filter((p) => treated.has(author.get(p) ?? -1)).length;
    if (n > 0) of(r.agent).treatedPostsServed += n;
  }
  const messages = store.sqlite.prepare<[string], { payload: string }>("select payload from events where stream_id = ? and type = 'TreatmentMessageShown'");
  for (const r of messages.iterate(conditionStream)) {
    const m = JSON.parse(r.payload) as { message: string; friendIds: number[] };
    if (m.message === 'social') for (const f of m.friendIds) of(f).namedInSocialMessages += 1;
  }
  return out;
}
