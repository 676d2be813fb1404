import { z } from 'zod';
import { EVENT_SCHEMA_VERSION } from './event-version.js';
import { personaSchema } from './persona.js';

/**
 * Every fact the simulator records. One discriminated union; each payload has a zod schema so data
 * read back from the database (or written by another version) is checked at the boundary.
 * Event names are past-tense facts.
 */
export { EVENT_SCHEMA_VERSION };

const id = z.number().int();
const round = z.number().int();

export const messageKind = z.enum(['none', 'informational', 'social']);

export const stageName = z.string().min(1);

export const eventDataSchemas = {
  /**
   * The run's sampled population and the follow edges among it (source follows target). Large
   * populations come in parts (agents in ascending id first, then edges in (source, target)
   * order), since one JSON text holding a million personas would pass V8's string limit.
   */
  PopulationLoaded: z.object({
    source: z.string(),
    agents: z.array(personaSchema),
    follows: z.array(z.tuple([id, id])),
    part: z.number().int().min(1).optional(),
    parts: z.number().int().min(1).optional(),
  }),
  /** A stage of the run began: the warmup, or a condition forked from the warmup's end state. */
  StageStarted: z.object({
    stage: stageName,
    condition: z.string().nullable(),
    treatmentSeed: z.number().int().nullable(),
    /** For a condition: the warmup stream it starts from and that stream's last hash. */
    forkedFrom: z.object({ stream: z.string(), position: z.number().int(), hash: z.string() }).nullable(),
  }),
  /** Each eligible user was drawn treated or not for a period; lists the treated ids. */
  TreatmentAssigned: z.object({
    period: z.number().int().min(1),
    probability: z.number().min(0).max(1),
    message: messageKind,
    treatedIds: z.array(id),
  }),
  PostCreated: z.object({
    postId: id,
    authorId: id,
    topic: z.string(),
    subtopic: z.string(),
    text: z.string(),
  }),
  FeedServed: z.object({ postIds: z.array(id) }),
  TreatmentMessageShown: z.object({
    message: messageKind,
    likelyVoters: z.number().int().min(0).nullable(),
    friendIds: z.array(id),
  }),
  PostLiked: z.object({ postId: id }),
  PostReplied: z.object({ postId: id, text: z.string() }),
  UserFollowed: z.object({ targetId: id }),
  UserUnfollowed: z.object({ targetId: id }),
  /** Posts the agent answered about, with the reply count it saw, so they leave its feed until new replies. */
  PostsSeen: z.object({ posts: z.array(z.tuple([id, z.number().int().min(0)])) }),
  VotingIntentionStated: z.object({ likelihood: z.number().int().min(0).max(4) }),
  NextActivityScheduled: z.object({
    nextRound: round,
    /** What the agent proposed (1..5), or null when it proposed nothing usable. */
    proposed: z.number().int().nullable(),
  }),
  VoteCast: z.object({ voted: z.boolean() }),
  /** A decision (or part of one) could not be used as answered and a documented fallback was applied. */
  DecisionFellBack: z.object({
    purpose: z.string(),
    field: z.string(),
    reason: z.string(),
    raw: z.string().nullable(),
  }),
  RoundCompleted: z.object({ activeAgents: z.number().int().min(0), fellBack: z.number().int().min(0) }),
  StageCompleted: z.object({ stage: stageName }),
} as const;

export type EventType = keyof typeof eventDataSchemas;

export interface EventMeta {
  /** Simulation round the fact belongs to (warmup rounds are <= 0). */
  round: number;
  /** The agent the fact is about, or null for population-wide facts. */
  agentId: number | null;
}

export type EventOf<T extends EventType> = {
  type: T;
  data: z.infer<(typeof eventDataSchemas)[T]>;
  meta: EventMeta;
};

export type SimEvent = { [T in EventType]: EventOf<T> }[EventType];

/** An event as the store holds it: with its place in the stream and in the hash chain. */
export type RecordedEvent = SimEvent & {
  position: number;
  streamId: string;
  streamPosition: number;
  schemaVersion: number;
  hash: string;
};

export function makeEvent<T extends EventType>(
  type: T,
  data: EventOf<T>['data'],
  round: number,
  agentId: number | null = null,
): EventOf<T> {
  return { type, data, meta: { round, agentId } } as EventOf<T>;
}

/** Throws a readable error if `type` is unknown or `data` does not fit its schema. */
export function validateEvent(type: string, data: unknown, where: string): SimEvent['data'] {
  const schema = (eventDataSchemas as Record<string, z.ZodTypeAny>)[type];
  if (!schema) throw new Error(`${where}: unknown event type "${type}"`);
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${where}: ${type} payload invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data as SimEvent['data'];
}

/** How the store checks these events when reading them back (it knows nothing else of them). */
export const eventCodec = { schemaVersion: EVENT_SCHEMA_VERSION, decode: validateEvent };
