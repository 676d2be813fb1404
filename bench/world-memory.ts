/**
 * What the world holds, measured (docs/performance.md, "The million"): records a warmup + control
 * run, folds both streams back from the store, and reports the heap the folded worlds (the warmup's
 * end and the control's end, sharing what the control did not change) retain, then how much of it
 * each structure retains: each is dropped in turn (after a full GC) and the heap measured again.
 * Usage: node --expose-gc --import tsx bench/world-memory.ts USERS DIR
 */
import { recordRun } from '../src/api/index.js';
import { openStoreFor } from '../src/api/store.js';
import { parseExperiment, WARMUP_STREAM } from '../src/domain/config.js';
import { worldFold } from '../src/domain/evolve.js';
import { OfflineProvider } from '../src/domain/offline-model.js';
import { emptyWorld, type World } from '../src/domain/world.js';
import { foldStream } from '../src/events/fold.js';
import { streamId } from '../src/events/stream-ids.js';
import { benchPopulation } from './population.js';

const [usersArg, dir] = process.argv.slice(2);
const config = parseExperiment({ n_users: Number(usersArg), seed: 1, run_conditions: ['control'] });
const run = await recordRun({ out: dir, config, population: benchPopulation(config), provider: () => new OfflineProvider(), workers: 1, codeVersion: 'bench' });
const gc = (globalThis as { gc?: () => void }).gc!;
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const mb = (n: number) => (n / 2 ** 20).toFixed(1);
const store = await openStoreFor({ out: dir });
const h0 = heap();
const warmup = (await foldStream(store, emptyWorld(), streamId(run.runId, WARMUP_STREAM), worldFold)).state;
const h1 = heap();
const control = (await foldStream(store, warmup, streamId(run.runId, 'control'), worldFold)).state;
const h2 = heap();
await store.close();
const worlds: World[] = [warmup, control];
const h3 = heap();

// Counts, from the control's end.
const c = { agents: control.agentIds.length, posts: control.posts.length, replies: 0, seen: 0, liked: 0, replied: 0, following: 0, postTextChars: 0, replyTextChars: 0, distinctPostTexts: 0, distinctReplyTexts: 0, changedAgents: 0, changedPosts: 0 };
/** A Map's or Set's size (the layout before "The million"), or a compact list's length. */
const size = (x: unknown) => (x as { size?: number }).size ?? (x as unknown[]).length;
const postTexts = new Set<string>();
const replyTexts = new Set<string>();
for (const p of control.posts) {
  c.replies += p.replies.length;
  c.postTextChars += p.text.length;
  postTexts.add(p.text);
  for (const r of p.replies) {
    c.replyTextChars += r.text.length;
    replyTexts.add(r.text);
  }
  if (warmup.posts[p.id] !== p) c.changedPosts += 1;
}
for (const id of control.agentIds) {
  const a = control.agents[id];
  c.seen += size(a.seen);
  c.liked += size(a.liked);
  c.replied += size(a.replied);
  c.following += a.following.length;
  if (warmup.agents[id] !== a) c.changedAgents += 1;
}
c.distinctPostTexts = postTexts.size;
c.distinctReplyTexts = replyTexts.size;
postTexts.clear();
replyTexts.clear();
const warmupPosts = warmup.posts.length;

/** Replaces a part of every agent (or post) in both worlds, keeping what they share shared. */
function dropAgents(change: (a: Record<string, unknown>) => void): void {
  const copies = new Map<object, object>();
  for (const w of worlds)
    for (const id of w.agentIds) {
      const a = w.agents[id];
      let copy = copies.get(a);
      if (!copy) {
        copy = { ...a };
        change(copy as Record<string, unknown>);
        copies.set(a, copy);
      }
      (w.agents as Record<number, unknown>)[id] = copy;
    }
}
function dropPosts(change: (p: Record<string, unknown>) => void): void {
  const copies = new Map<object, object>();
  for (const w of worlds) {
    const posts = w.posts.slice();
    posts.forEach((p, i) => {
      let copy = copies.get(p);
      if (!copy) {
        copy = { ...p };
        change(copy as Record<string, unknown>);
        copies.set(p, copy);
      }
      (posts as unknown[])[i] = copy;
    });
    (w as { posts: unknown }).posts = posts;
  }
}
const steps: Array<[string, () => void]> = [
  ['agents: seen', () => dropAgents((a) => (a.seen = null))],
  ['agents: liked + replied', () => dropAgents((a) => ((a.liked = null), (a.replied = null)))],
  ['agents: following (arrays)', () => dropAgents((a) => (a.following = null))],
  ['agents: lastTurn', () => dropAgents((a) => (a.lastTurn = null))],
  ['posts: replies (objects with text)', () => dropPosts((p) => (p.replies = null))],
  ['posts: text', () => dropPosts((p) => (p.text = null))],
  ['posts: the rest (objects, topic, subtopic)', () => worlds.forEach((w) => ((w as { posts: unknown }).posts = []))],
  ['indexes (postsBySubtopic, postsByAuthor)', () => worlds.forEach((w) => ((w.postsBySubtopic = {}), (w.postsByAuthor = {})))],
  ['personas', () => worlds.forEach((w) => (w.personas = {}))],
  ['agents: the rest (objects, tables)', () => worlds.forEach((w) => (w.agents = {}))],
];
const lines: string[] = [];
let before = heap();
for (const [label, drop] of steps) {
  drop();
  const after = heap();
  lines.push(`${mb(before - after).padStart(8)} MB  ${label}`);
  before = after;
}
process.stdout.write(
  `${JSON.stringify({ users: c.agents, warmupPosts, ...c })}\n` +
    `heap: before folding ${mb(h0)} MB, warmup world ${mb(h1 - h0)} MB, + control world ${mb(h2 - h1)} MB (both ${mb(h3 - h0)} MB)\n` +
    `${lines.join('\n')}\nleft ${mb(before - h0)} MB\n`,
);
