import type { Command } from 'commander';
import { userHistory, type UserHistory } from '../../api/index.js';
import type { RecordedEvent } from '../../domain/events.js';
import type { Persona } from '../../domain/persona.js';
import { addOutOption } from '../options.js';

/** One user's whole history in a run, read from the event log (replaces the reference's per-user text files). */
export function registerShow(program: Command): void {
  const show = program.command('show').description('show recorded detail');
  const user = show
    .command('user')
    .description("a user's persona, feeds, decisions, treatment messages, fallbacks, likelihood over time and vote")
    .argument('<id>', 'user id')
    .option('--run <id>', 'run id (default: the latest run)')
    .option('--condition <name>', 'condition stream (default: the first)');
  addOutOption(user).action(async (id: string, opts: { run?: string; condition?: string; out: string }) => {
    const history = await userHistory({ ...opts, user: id });
    process.stdout.write(`${historyLines(history).join('\n')}\n`);
  });
}

/** The history as printed: each stream's heading, then one line per entry, then the likelihoods. */
function historyLines(history: UserHistory): string[] {
  const out: string[] = [];
  for (const { stream, entries } of history.streams) {
    out.push(`== ${stream} ==`);
    for (const entry of entries) {
      if (entry.kind === 'persona') out.push(...personaLines(entry.persona));
      else if (entry.kind === 'follows') out.push(`follows at the start: ${entry.ids.join(', ')}`);
      else if (entry.kind === 'treated') out.push(`round ${entry.round}: treated in period ${entry.period} (${entry.message})`);
      else {
        const line = describe(entry.event, entry.postText ?? '');
        if (line) out.push(`round ${entry.round}: ${line}`);
      }
    }
  }
  out.push(`likelihood over time (round:value): ${history.likelihoods.map((l) => `${l.round}:${l.likelihood}`).join(' ') || 'never stated'}`);
  return out;
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

function describe(e: RecordedEvent, likedText: string): string | null {
  switch (e.type) {
    case 'FeedServed':
      return `saw posts ${e.data.postIds.join(', ') || '(empty feed)'}`;
    case 'TreatmentMessageShown':
      return `was shown the ${e.data.message} message${e.data.likelyVoters !== null ? ` (${e.data.likelyVoters} likely voters; friends ${e.data.friendIds.join(', ') || 'none'})` : ''}`;
    case 'PostLiked':
      return `liked post ${e.data.postId}: "${likedText}"`;
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
