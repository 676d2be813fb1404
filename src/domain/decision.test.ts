import { describe, expect, it } from 'vitest';
import { certainTurnAnswer, turnAnswerSchema } from './decision.js';

const item = { post_number: 2, engage: 'reply', reply_text: 'yes', follow_action: 'follow' };

describe('certainTurnAnswer', () => {
  it('takes only answers zod accepts, and they read the same as what zod returns', () => {
    const accepted: unknown[] = [
      { engagement: [], next_activity_time: 3 },
      { engagement: [item, { post_number: 1, engage: 'like', reply_text: null, follow_action: 'no_change' }], voting_likelihood: 4, generated_content: 'hi', next_activity_time: null },
      { engagement: [{ ...item, extra: true }], voting_likelihood: undefined, unknown_key: 'dropped by zod, read by nobody' },
    ];
    for (const value of accepted) {
      expect(certainTurnAnswer(value)).toBe(value);
      const parsed = turnAnswerSchema.safeParse(value);
      expect(parsed.success).toBe(true);
      // Every field zod returns has the same value in the answer taken as it is.
      const data = parsed.data as Record<string, unknown>;
      for (const [key, v] of Object.entries(data)) {
        if (key === 'engagement') (v as Array<Record<string, unknown>>).forEach((e, i) => expect((value as { engagement: unknown[] }).engagement[i]).toMatchObject(e));
        else expect((value as Record<string, unknown>)[key]).toEqual(v);
      }
    }
  });

  it('leaves to zod what zod rejects or completes (a missing follow_action takes its default there)', () => {
    const refused: unknown[] = [
      null,
      [],
      'text',
      {},
      { engagement: 'none' },
      { engagement: [{ ...item, post_number: 1.5 }] },
      { engagement: [{ ...item, post_number: Number.NaN }] },
      { engagement: [{ ...item, engage: 'share' }] },
      { engagement: [{ ...item, reply_text: 3 }] },
      { engagement: [{ ...item, follow_action: undefined }] },
      { engagement: [], voting_likelihood: '3' },
      { engagement: [], voting_likelihood: 2.5 },
      { engagement: [], next_activity_time: Number.POSITIVE_INFINITY },
      { engagement: [], generated_content: 7 },
    ];
    for (const value of refused) expect(certainTurnAnswer(value)).toBeNull();
    // The defaulted case is valid for zod: the turn still gets it, through zod.
    expect(turnAnswerSchema.safeParse({ engagement: [{ ...item, follow_action: undefined }] }).success).toBe(true);
  });
});
