import { z } from 'zod';
import type { Persona } from './persona.js';

/**
 * What an agent is asked and what it answers. The same request goes to the offline persona model
 * and to an LLM; both answer in the JSON shape below (snake_case, as the reference's prompts ask).
 */
export type Purpose = 'initial_post' | 'turn' | 'vote';

/**
 * Names the draw: two agents with the same prompt draw separately, while conditions that show an
 * agent the same prompt in the same round reuse one answer (common random numbers). `seed` is the
 * simulation seed, never the treatment seed.
 */
export interface SampleKey {
  seed: number;
  agentId: number;
  round: number;
  purpose: Purpose;
}

export interface FeedItem {
  /** 1-based position in the ranked feed; the agent refers to posts by this number. */
  number: number;
  postId: number;
  authorId: number;
  authorProfile: string;
  authorFollowed: boolean;
  topic: string;
  subtopic: string;
  text: string;
  likesByFollowed: number;
  repliesByFollowed: number;
  totalLikes: number;
  totalReplies: number;
  /** The most recent reply, truncated to 140 characters, or null. */
  latestReply: string | null;
}

/** What the agent did in its previous active turn (all empty = "no action"). */
export interface TurnSummary {
  round: number;
  liked: Array<{ postId: number; text: string }>;
  replied: Array<{ postId: number; text: string; reply: string }>;
  posted: string | null;
}

export interface TreatmentMessage {
  kind: 'informational' | 'social';
  /** The stimulus, verbatim. */
  stimulus: string;
  /** Social message only: users in the whole network likely to vote (3 or 4) at round start. */
  likelyVoters: number | null;
  /** Social message only: up to 6 followed users who are likely voters. */
  friendIds: number[];
}

interface RequestBase {
  key: SampleKey;
  model: string;
  temperature: number;
  persona: Persona;
}

export interface TurnRequest extends RequestBase {
  purpose: 'turn';
  round: number;
  stage: string;
  topic: string;
  previousTurn: TurnSummary | null;
  previousLikelihood: number | null;
  feed: FeedItem[];
  /** Null for users under 18: they are not told about the election nor asked about voting. */
  election: { daysLeft: number } | null;
  /** The treatment message shown before the voting question, or null. */
  treatment: TreatmentMessage | null;
  /** Set when the agent is invited to write a new post this turn. */
  invitePost: { topic: string; subtopic: string; daysLeft: number | null } | null;
  /** The range the agent may propose for its next activity (1..5 by default). */
  activityRange: { min: number; max: number };
}

export interface InitialPostRequest extends RequestBase {
  purpose: 'initial_post';
  topic: string;
  subtopic: string;
  maxChars: number;
}

export interface VoteRequest extends RequestBase {
  purpose: 'vote';
  lastLikelihood: number | null;
}

export type DecisionRequest = TurnRequest | InitialPostRequest | VoteRequest;

// ---- answers ----------------------------------------------------------------------------------

const engageChoice = z.enum(['nothing', 'like', 'reply']);
const followChoice = z.enum(['follow', 'unfollow', 'no_change']);

const engagementItemSchema = z.object({
  post_number: z.number().int(),
  engage: engageChoice,
  reply_text: z.string().nullish(),
  follow_action: followChoice.default('no_change'),
});

export const turnAnswerSchema = z.object({
  engagement: z.array(engagementItemSchema),
  generated_content: z.string().nullish(),
  voting_likelihood: z.number().int().nullish(),
  next_activity_time: z.number().int().nullish(),
});
export type TurnAnswer = z.infer<typeof turnAnswerSchema>;

/**
 * The answer itself when it certainly passes `turnAnswerSchema` with every field present (what the
 * offline model and well-formed LLM answers give), else null: then zod parses it and says what is
 * wrong. Zod would return a copy of the same fields (unknown keys dropped; nothing reads them), so
 * a turn reads the same values either way; this only saves building the copy on every turn. It
 * accepts a subset of what zod accepts (a missing follow_action, which zod defaults, goes to zod).
 */
export function certainTurnAnswer(value: unknown): TurnAnswer | null {
  if (!isRecord(value)) return null;
  const engagement = value.engagement;
  if (!Array.isArray(engagement)) return null;
  for (const item of engagement) {
    if (!isRecord(item)) return null;
    if (!Number.isSafeInteger(item.post_number)) return null;
    if (item.engage !== 'nothing' && item.engage !== 'like' && item.engage !== 'reply') return null;
    if (!isNullishOr(item.reply_text, 'string')) return null;
    if (item.follow_action !== 'follow' && item.follow_action !== 'unfollow' && item.follow_action !== 'no_change') return null;
  }
  if (!isNullishOr(value.generated_content, 'string')) return null;
  for (const field of [value.voting_likelihood, value.next_activity_time]) if (field !== null && field !== undefined && !Number.isSafeInteger(field)) return null;
  return value as TurnAnswer;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNullishOr(value: unknown, type: 'string'): boolean {
  return value === null || value === undefined || typeof value === type;
}

const initialPostAnswerSchema = z.object({ content: z.string() });
export type InitialPostAnswer = z.infer<typeof initialPostAnswerSchema>;

export const voteAnswerSchema = z.object({ voted: z.union([z.literal(0), z.literal(1)]) });
export type VoteAnswer = z.infer<typeof voteAnswerSchema>;

export type Validation<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/**
 * Checks an answer against the request it answers: the JSON shape, and the values the request
 * allows (post numbers that exist, a likelihood 0-4 when one was asked for). An LLM provider retries
 * with these problems as a correction; what is still wrong after the retries falls back in the domain.
 */
export function validateAnswer(request: DecisionRequest, value: unknown): Validation<TurnAnswer | InitialPostAnswer | VoteAnswer> {
  switch (request.purpose) {
    case 'initial_post':
      return fromZod(initialPostAnswerSchema.safeParse(value));
    case 'vote':
      return fromZod(voteAnswerSchema.safeParse(value));
    case 'turn': {
      const parsed = fromZod(turnAnswerSchema.safeParse(value));
      if (!parsed.ok) return parsed;
      const problems = turnValueProblems(request, parsed.value);
      return problems.length === 0 ? parsed : { ok: false, problems };
    }
  }
}

export function turnValueProblems(request: TurnRequest, answer: TurnAnswer): string[] {
  const problems: string[] = [];
  for (const item of answer.engagement) {
    if (item.post_number < 1 || item.post_number > request.feed.length) {
      problems.push(`engagement.post_number ${item.post_number} is not a post in the feed (1-${request.feed.length})`);
    }
  }
  if (request.election) {
    const v = answer.voting_likelihood;
    if (v === undefined || v === null) problems.push('voting_likelihood is missing (an integer 0-4 is required)');
    else if (v < 0 || v > 4) problems.push(`voting_likelihood ${v} is outside 0-4`);
  }
  return problems;
}

function fromZod<T>(result: z.ZodSafeParseResult<T>): Validation<T> {
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, problems: result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) };
}

// ---- providers --------------------------------------------------------------------------------

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
}

/**
 * What a provider returns for one request. `ok: false` means no usable answer at all (unparsable
 * after retries, refused...); the domain then applies its documented fallback and records why.
 */
export type ProviderAnswer =
  | { ok: true; value: unknown; raw: string; cached: boolean; usage: Usage | null }
  | { ok: false; reason: string; raw: string | null; cached: boolean; usage: Usage | null };

/** The only door to language models (or the offline persona model that stands in for one). */
export interface Provider {
  readonly name: string;
  /** True for the offline persona model: output says these runs used no LLM. */
  readonly offline: boolean;
  decide(request: DecisionRequest): Promise<ProviderAnswer>;
  /** Running totals for progress lines and summaries (LLM providers). */
  stats?(): ProviderStats;
  /** Stop at once (Ctrl-C): cancel requests in flight; what was cached stays. */
  abort?(): void;
  /**
   * Makes the answers given so far durable (the LLM cache writes them in batches) before the events
   * that use them are committed, so a recorded run never holds a decision its cache cannot replay.
   */
  persist?(): Promise<void>;
  /**
   * An upper estimate, in USD, of what deciding these requests would spend now (answers in the
   * cache cost nothing); absent: the provider never spends (the offline model).
   */
  costBound?(requests: readonly DecisionRequest[]): Promise<number>;
  close?(): Promise<void>;
}

export interface ProviderStats {
  /** HTTP requests made (retries included). */
  calls: number;
  cacheHits: number;
  retries: number;
  /** Requests that ended with no usable answer. */
  failures: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costUsd: number;
  /** Per server, when there are servers (progress and the log show them). */
  endpoints?: EndpointStatus[];
}

export interface EndpointStatus {
  url: string;
  /** up; out (circuit breaker open after repeated failures); probing (one request to test it). */
  state: 'up' | 'out' | 'probing';
  inFlight: number;
  limit: number;
  calls: number;
  answered: number;
  errors: number;
  callsPerSecond: number;
  p50Ms: number | null;
  p95Ms: number | null;
}
