import type { SimEvent } from '../domain/events.js';
import type { Store } from '../events/port.js';
import type { Exposure } from './exposure.js';

/**
 * Reads, from one condition stream and the warmup it forked from, what each user was exposed to:
 * posts by treated users served in their feeds before `electionRound`, and how often they were
 * named in social messages. `treated` is who the condition treated; `following` the follow lists at
 * the fork. Only the rows of the types needed are read, unparsed, and their payloads parsed here.
 */
export async function readExposure(store: Store<SimEvent>, warmupStream: string, conditionStream: string, electionRound: number, treated: ReadonlySet<number>, following: Map<number, number[]>): Promise<Map<number, Exposure>> {
  const author = new Map<number, number>();
  for (const stream of [warmupStream, conditionStream]) {
    for await (const page of store.eventsOfTypes(stream, ['PostCreated'])) {
      for (const r of page) {
        const p = JSON.parse(r.payload) as { postId: number; authorId: number };
        author.set(p.postId, p.authorId);
      }
    }
  }

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
  for await (const page of store.eventsOfTypes(conditionStream, ['FeedServed'], { beforeRound: electionRound })) {
    for (const r of page) {
      const ids = (JSON.parse(r.payload) as { postIds: number[] }).postIds;
      const n = ids.filter((p) => treated.has(author.get(p) ?? -1)).length;
      if (n > 0) of(r.agent_id!).treatedPostsServed += n;
    }
  }
  for await (const page of store.eventsOfTypes(conditionStream, ['TreatmentMessageShown'])) {
    for (const r of page) {
      const m = JSON.parse(r.payload) as { message: string; friendIds: number[] };
      if (m.message === 'social') for (const f of m.friendIds) of(f).namedInSocialMessages += 1;
    }
  }
  return out;
}
