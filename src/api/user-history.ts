import { conditionRuns, parseExperiment } from '../domain/config.js';
import type { RecordedEvent } from '../domain/events.js';
import type { Persona } from '../domain/persona.js';
import { NotFoundError, UsageError } from '../errors.js';
import { streamId } from '../events/stream-ids.js';
import { warmupStreamOf } from '../sim/run-status.js';
import { openStoreWithRuns, selectRun } from './runs.js';

export interface UserHistoryOptions {
  /** The user id as typed. */
  user: string;
  /** The run id (default: the latest run). */
  run?: string;
  /** The condition stream (default: the run's first). */
  condition?: string;
  out: string;
  /** The store (src/api/store.ts): a file, sqlite:PATH or postgres://...; default SIM_STORE, else <out>/sim.db. */
  store?: string;
}

/** What one user did in one stream, in the order recorded. */
export type HistoryEntry =
  | { kind: 'persona'; persona: Persona }
  | { kind: 'follows'; ids: number[] }
  | { kind: 'treated'; round: number; period: number; message: string }
  /** One of the user's own events; `postText` is the text of the post a PostLiked names. */
  | { kind: 'event'; round: number; event: RecordedEvent; postText?: string };

export interface UserHistory {
  runId: number;
  agentId: number;
  streams: Array<{ stream: string; entries: HistoryEntry[] }>;
  /** Stated likelihoods over time, warmup first. */
  likelihoods: Array<{ round: number; likelihood: number }>;
}

/** One user's whole history in a run, read from the event log (replaces the reference's per-user text files). */
export async function userHistory(options: UserHistoryOptions): Promise<UserHistory> {
  const agentId = Number(options.user);
  if (!Number.isInteger(agentId)) throw new UsageError(`user id: "${options.user}" is not an integer`);
  const store = await openStoreWithRuns(options, 'read');
  try {
    const runId = await selectRun(store, options.run, '--run');
    const config = parseExperiment((await store.getRun(runId)).config);
    const names = conditionRuns(config).map((c) => c.stream);
    const condition = options.condition ?? names[0];
    if (condition && !names.includes(condition)) throw new NotFoundError(`--condition: "${condition}" is not a condition of run ${runId} (${names.join(', ')})`);
    const streams = [warmupStreamOf(runId, config), ...(condition && !config.warmup_only ? [streamId(runId, condition)] : [])];
    const history: UserHistory = { runId, agentId, streams: [], likelihoods: [] };
    let found = false;
    const ids: number[] = [];
    const posts = new Map<number, string>();
    for (const stream of streams) {
      const entries: HistoryEntry[] = [];
      history.streams.push({ stream, entries });
      for await (const page of store.readStream(stream)) {
        for (const e of page) {
          if (e.type === 'PostCreated') posts.set(e.data.postId, e.data.text);
          if (e.type === 'PopulationLoaded') {
            for (const a of e.data.agents) ids.push(a.id);
            const p = e.data.agents.find((a) => a.id === agentId);
            if (p) {
              found = true;
              entries.push({ kind: 'persona', persona: p });
            }
            const follows = e.data.follows.filter(([s]) => s === agentId).map(([, t]) => t);
            if (follows.length > 0) entries.push({ kind: 'follows', ids: follows });
            continue;
          }
          if (e.type === 'TreatmentAssigned' && e.data.treatedIds.includes(agentId)) entries.push({ kind: 'treated', round: e.meta.round, period: e.data.period, message: e.data.message });
          if (e.meta.agentId !== agentId) continue;
          entries.push({ kind: 'event', round: e.meta.round, event: e, ...(e.type === 'PostLiked' ? { postText: posts.get(e.data.postId) ?? '' } : {}) });
          if (e.type === 'VotingIntentionStated') history.likelihoods.push({ round: e.meta.round, likelihood: e.data.likelihood });
        }
      }
    }
    if (!found) throw new NotFoundError(`user ${agentId} is not in run ${runId}${validIds(ids)}`);
    return history;
  } finally {
    await store.close();
  }
}

/** Which ids a run holds, for a user who asked for another: the range and a few of them. */
export function validIds(ids: number[]): string {
  if (ids.length === 0) return ' (it holds no users yet)';
  const sorted = [...ids].sort((a, b) => a - b);
  const few = sorted.length <= 6 ? sorted.join(', ') : `${sorted.slice(0, 5).join(', ')}, ..., ${sorted[sorted.length - 1]}`;
  return `: its ${sorted.length.toLocaleString('en-US')} user${sorted.length === 1 ? '' : 's'} have ids ${few} (\`sim export csv\` lists them in personas.csv)`;
}
