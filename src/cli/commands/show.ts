import type { Command } from 'commander';
import { parseExperiment, conditionRuns } from '../../domain/config.js';
import { NotFoundError, UsageError } from '../../errors.js';
import { streamId } from '../../events/stream-ids.js';
import type { RecordedEvent } from '../../domain/events.js';
import type { Persona } from '../../domain/persona.js';
import { warmupStreamOf } from '../../sim/run-status.js';
import { DEFAULT_OUT } from '../program.js';
import { openStoreWithRuns, selectRun } from '../run-select.js';

/** One user's whole history in a run, read from the event log (replaces the reference's per-user text files). */
export function registerShow(program: Command): void {
  const show = program.command('show').description('show recorded detail');
  show
    .command('user')
    .description("a user's persona, feeds, decisions, treatment messages, fallbacks, likelihood over time and vote")
    .argument('<id>', 'user id')
    .option('--run <id>', 'run id (default: the latest run)')
    .option('--condition <name>', 'condition stream (default: the first)')
    .option('--out <dir>', 'output directory holding sim.db', DEFAULT_OUT)
    .action(async (idArg: string, opts: { run?: string; condition?: string; out: string }) => {
      const agentId = Number(idArg);
      if (!Number.isInteger(agentId)) throw new UsageError(`user id: "${idArg}" is not an integer`);
      const store = await openStoreWithRuns(opts);
      try {
        const runId = await selectRun(store, opts.run, '--run');
        const config = parseExperiment((await store.getRun(runId)).config);
        const names = conditionRuns(config).map((c) => c.stream);
        const condition = opts.condition ?? names[0];
        if (condition && !names.includes(condition)) throw new NotFoundError(`--condition: "${condition}" is not a condition of run ${runId} (${names.join(', ')})`);
        const streams = [warmupStreamOf(runId, config), ...(condition && !config.warmup_only ? [streamId(runId, condition)] : [])];
        const out: string[] = [];
        const likelihoods: string[] = [];
        let found = false;
        const posts = new Map<number, string>();
        for (const stream of streams) {
          out.push(`== ${stream} ==`);
          for await (const page of store.readStream(stream)) {
            for (const e of page) {
              if (e.type === 'PostCreated') posts.set(e.data.postId, e.data.text);
              if (e.type === 'PopulationLoaded') {
                const p = e.data.agents.find((a) => a.id === agentId);
                if (p) {
                  found = true;
                  out.push(...personaLines(p));
                }
                const follows = e.data.follows.filter(([s]) => s === agentId).map(([, t]) => t);
                if (follows.length > 0) out.push(`follows at the start: ${follows.join(', ')}`);
                continue;
              }
              if (e.type === 'TreatmentAssigned' && e.data.treatedIds.includes(agentId)) out.push(`round ${e.meta.round}: treated in period ${e.data.period} (${e.data.message})`);
              if (e.meta.agentId !== agentId) continue;
              const line = describe(e, posts);
              if (line) out.push(`round ${e.meta.round}: ${line}`);
              if (e.type === 'VotingIntentionStated') likelihoods.push(`${e.meta.round}:${e.data.likelihood}`);
            }
          }
        }
        if (!found) throw new NotFoundError(`user ${agentId} is not in run ${runId}`);
        out.push(`likelihood over time (round:value): ${likelihoods.join(' ') || 'never stated'}`);
        process.stdout.write(`${out.join('\n')}\n`);
      } finally {
        await store.close();
      }
    });
}

/**
 * A persona as aligned "field  value" lines, in the order the persona holds them. Labels come from
 * the field names (maritalStatus -> marital status), so a field added later is printed too.
 */
export function personaLines(persona: Persona): string[] {
  const entries = Object.entries(persona).filter(([key]) => key !== 'id');
  const label = (key: string) => key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  const width = Math.max(...entries.map(([key]) => label(key).length));
  const value = (v: unknown) => (Array.isArray(v) ? (v.length > 0 ? v.join(', ') : '(none)') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
  return [`persona of user ${persona.id}:`, ...entries.map(([key, v]) => `  ${label(key).padEnd(width)}  ${value(v)}`)];
}

function describe(e: RecordedEvent, posts: Map<number, string>): string | null {
  switch (e.type) {
    case 'FeedServed':
      return `saw posts ${e.data.postIds.join(', ') || '(empty feed)'}`;
    case 'TreatmentMessageShown':
      return `was shown the ${e.data.message} message${e.data.likelyVoters !== null ? ` (${e.data.likelyVoters} likely voters; friends ${e.data.friendIds.join(', ') || 'none'})` : ''}`;
    case 'PostLiked':
      return `liked post ${e.data.postId}: "${posts.get(e.data.postId) ?? ''}"`;
    case 'PostReplied':
      return `replied to post ${e.data.postId}: "${e.data.text}"`;
    case 'UserFollowed':
      return `followed user ${e.data.targetId}`;
    case 'UserUnfollowed':
      return `unfollowed user ${e.data.targetId}`;
    case 'PostCreated':
      return `posted #${e.data.postId} (${e.data.topic}/${e.data.subtopic}): "${e.data.text}"`;
    case 'VotingIntentionStated':
      return `stated likelihood ${e.data.likelihood}`;
    case 'NextActivityScheduled':
      return `next active in round ${e.data.nextRound}${e.data.proposed === null ? '' : ` (proposed +${e.data.proposed})`}`;
    case 'DecisionFellBack':
      return `FALLBACK ${e.data.purpose}.${e.data.field}: ${e.data.reason}${e.data.raw ? ` (answer: ${e.data.raw.slice(0, 200)})` : ''}`;
    case 'VoteCast':
      return e.data.voted ? 'VOTED' : 'did not vote';
    default:
      return null;
  }
}
