import type { DecisionRequest, FeedItem, InitialPostRequest, TurnRequest, VoteRequest } from './decision.js';
import type { Persona } from './persona.js';

/**
 * The prompts an LLM agent gets (docs/protocol.md, "One active turn"), in our own words. The stable part
 * (instructions and persona) comes first, in the system message, so providers' prompt caching
 * applies across an agent's turns; what changes each round is in the user message.
 */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export function buildMessages(request: DecisionRequest): ChatMessage[] {
  switch (request.purpose) {
    case 'turn':
      return [
        { role: 'system', content: `${TURN_INSTRUCTIONS}\n\n${personaText(request.persona)}` },
        { role: 'user', content: turnText(request) },
      ];
    case 'initial_post':
      return [
        { role: 'system', content: `${POST_INSTRUCTIONS}\n\n${personaText(request.persona)}` },
        { role: 'user', content: initialPostText(request) },
      ];
    case 'vote':
      return [
        { role: 'system', content: `${VOTE_INSTRUCTIONS}\n\n${personaText(request.persona)}` },
        { role: 'user', content: voteText(request) },
      ];
  }
}

/** Max completion tokens per purpose: enough for the JSON asked for, bounded for cost. */
export function maxTokensFor(request: DecisionRequest): number {
  if (request.purpose === 'turn') return 120 + 60 * request.feed.length;
  if (request.purpose === 'initial_post') return 120;
  return 20;
}

const TURN_INSTRUCTIONS = [
  'You are a person using a social media platform. You will see your feed and decide what to do, as yourself.',
  'For each post you may do nothing, like it, or reply to it; you may also follow or unfollow its author.',
  'Like more often than you reply, and reply rarely. Posts higher in the feed, posts by people you follow, and posts your followees engaged with draw more of your attention.',
  'Answer with a single JSON object and nothing else.',
].join('\n');

const POST_INSTRUCTIONS = 'You are a person using a social media platform. Write one short post (at most 140 characters), in your own voice. Answer with a single JSON object and nothing else.';

const VOTE_INSTRUCTIONS = 'You are a person. Today was election day. Say whether you voted, as yourself. Answer with a single JSON object and nothing else.';

function personaText(p: Persona): string {
  return [
    'Who you are:',
    `- You are ${p.age} years old, ${p.sex.toLowerCase()}, ${p.race}, from ${p.nativeCountry.replace(/-/g, ' ')}.`,
    `- Work: ${p.occupation.replace(/-/g, ' ')} (${p.workSchedule}). Education: ${p.education}. Marital status: ${p.maritalStatus.replace(/-/g, ' ')}.`,
    `- Your political views: ${p.politicalStance}.`,
    `- Your interests: ${p.interests.join(', ')}.`,
    `- Your close friends on the platform: ${p.closeFriends.length > 0 ? p.closeFriends.map((f) => `user ${f}`).join(', ') : 'none'}.`,
  ].join('\n');
}

export function electionWhen(daysLeft: number): string {
  if (daysLeft <= 0) return 'today';
  if (daysLeft === 1) return 'tomorrow';
  return `in ${daysLeft} days`;
}

const LIKELIHOOD_SCALE = '0 = definitely will not vote, 1 = probably not, 2 = might or might not, 3 = probably will, 4 = definitely will';

function postText(item: FeedItem): string {
  return [
    `Post ${item.number} (by ${item.authorProfile || `user ${item.authorId}`}${item.authorFollowed ? ', whom you follow' : ''})`,
    `  topic: ${item.topic} - ${item.subtopic}`,
    `  liked by ${item.likesByFollowed} and replied to by ${item.repliesByFollowed} of the people you follow; ${item.totalReplies} replies in all`,
    `  text: ${item.text}`,
    ...(item.latestReply ? [`  latest reply: ${item.latestReply}`] : []),
  ].join('\n');
}

function previousTurnText(request: TurnRequest): string {
  const t = request.previousTurn;
  if (!t) return 'This is your first visit.';
  const parts: string[] = [];
  for (const l of t.liked) parts.push(`you liked "${l.text}"`);
  for (const r of t.replied) parts.push(`you replied "${r.reply}" to "${r.text}"`);
  if (t.posted) parts.push(`you posted "${t.posted}"`);
  return `Last time (round ${t.round}): ${parts.length > 0 ? parts.join('; ') : 'no action'}.`;
}

function turnText(request: TurnRequest): string {
  const lines: string[] = [`Round ${request.round}.`, previousTurnText(request)];
  if (request.election && request.previousLikelihood !== null) {
    lines.push(`Last time you said your likelihood of voting was ${request.previousLikelihood} (${LIKELIHOOD_SCALE}).`);
  }
  lines.push('', request.feed.length > 0 ? 'Your feed:' : 'Your feed is empty.', ...request.feed.map(postText));
  if (request.invitePost) {
    const about = `${request.invitePost.topic} - ${request.invitePost.subtopic}`;
    const when = request.invitePost.daysLeft === null ? '' : ` (the election is ${electionWhen(request.invitePost.daysLeft)})`;
    lines.push('', `You may also write a new post about ${about}${when}: put it in "generated_content" (at most 140 characters), or leave it empty.`);
  }
  if (request.election) {
    lines.push('', `The election is ${electionWhen(request.election.daysLeft)}.`);
    const t = request.treatment;
    if (t) {
      lines.push(`You see this message: "${t.stimulus}"`);
      if (t.kind === 'social') {
        const friends = t.friendIds.length > 0 ? ` Among people you follow: ${t.friendIds.map((f) => `user ${f}`).join(', ')}.` : '';
        lines.push(`${t.likelyVoters ?? 0} people on the platform said they are likely to vote.${friends} Will you?`);
      }
    }
    lines.push(`How likely are you to vote, given your political views and everything above? Use the scale ${LIKELIHOOD_SCALE}.`);
  }
  lines.push('', `Answer as JSON: ${turnShape(request)}`);
  return lines.join('\n');
}

function turnShape(request: TurnRequest): string {
  const fields = [
    '"engagement": [{"post_number": <number>, "engage": "nothing" | "like" | "reply", "reply_text": <only for a reply, at most 140 characters>, "follow_action": "follow" | "unfollow" | "no_change"}, ... one per post]',
  ];
  if (request.invitePost) fields.push('"generated_content": <your new post, or "">');
  if (request.election) fields.push('"voting_likelihood": <integer 0-4>');
  fields.push(`"next_activity_time": <integer ${request.activityRange.min}-${request.activityRange.max}: in how many rounds you will come back>`);
  return `{${fields.join(', ')}}`;
}

function initialPostText(request: InitialPostRequest): string {
  return `Write a post about ${request.topic} - ${request.subtopic}, at most ${request.maxChars} characters.\nAnswer as JSON: {"content": <your post>}`;
}

function voteText(request: VoteRequest): string {
  const last = request.lastLikelihood === null ? 'You never said how likely you were to vote.' : `The last time you were asked, your likelihood of voting was ${request.lastLikelihood} (${LIKELIHOOD_SCALE}).`;
  return `${last}\nDid you vote?\nAnswer as JSON: {"voted": 1 if you voted, 0 if not}`;
}

/** JSON schema for structured outputs (response_format json_schema), per request. */
export function responseFormat(request: DecisionRequest): { type: 'json_schema'; json_schema: { name: string; strict: boolean; schema: Record<string, unknown> } } {
  const object = (properties: Record<string, unknown>, required: string[]) => ({ type: 'object', properties, required, additionalProperties: false });
  let schema: Record<string, unknown>;
  if (request.purpose === 'initial_post') schema = object({ content: { type: 'string' } }, ['content']);
  else if (request.purpose === 'vote') schema = object({ voted: { type: 'integer', enum: [0, 1] } }, ['voted']);
  else {
    const item = object(
      {
        post_number: { type: 'integer' },
        engage: { type: 'string', enum: ['nothing', 'like', 'reply'] },
        reply_text: { type: ['string', 'null'] },
        follow_action: { type: 'string', enum: ['follow', 'unfollow', 'no_change'] },
      },
      ['post_number', 'engage', 'reply_text', 'follow_action'],
    );
    const properties: Record<string, unknown> = { engagement: { type: 'array', items: item }, next_activity_time: { type: 'integer' } };
    const required = ['engagement', 'next_activity_time'];
    if (request.invitePost) (properties.generated_content = { type: 'string' }), required.push('generated_content');
    if (request.election) (properties.voting_likelihood = { type: 'integer', enum: [0, 1, 2, 3, 4] }), required.push('voting_likelihood');
    schema = object(properties, required);
  }
  return { type: 'json_schema', json_schema: { name: `${request.purpose}_answer`, strict: true, schema } };
}
