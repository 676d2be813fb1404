import { describe, expect, it } from 'vitest';
import { persona } from '../../../test/support/world.js';
import { makeEvent } from '../events.js';
import { given } from './given-when-then.js';

const population = makeEvent('PopulationLoaded', { source: 'test', agents: [persona(0), persona(1)], follows: [] }, -16);

describe('given/when/then', () => {
  it('folds the given events into the world the decision sees, and returns the world after the decided ones', () => {
    const spec = given([population, makeEvent('VotingIntentionStated', { likelihood: 2 }, 3, 1)]);
    expect(spec.world.agents[1].likelihood).toBe(2);
    const after = spec
      .when((world) => [makeEvent('VotingIntentionStated', { likelihood: (world.agents[1].likelihood ?? 0) + 1 }, 4, 1)])
      .then([{ type: 'VotingIntentionStated', data: { likelihood: 3 }, meta: { agentId: 1 } }]);
    expect(after.agents[1].likelihood).toBe(3);
  });

  it('compares only what an expectation names', () => {
    const when = given([population]).when(() => [makeEvent('UserFollowed', { targetId: 1 }, 4, 0), makeEvent('NextActivityScheduled', { nextRound: 9, proposed: 5 }, 4, 0)]);
    expect(() => when.then([{ type: 'UserFollowed' }, { type: 'NextActivityScheduled', data: expect.objectContaining({ proposed: 5 }) }])).not.toThrow();
  });

  it('fails on another type, other data, another order, a missing or an extra event', () => {
    const when = given([population]).when(() => [makeEvent('UserFollowed', { targetId: 1 }, 4, 0), makeEvent('VoteCast', { voted: true }, 4, 0)]);
    expect(() => when.then([{ type: 'UserFollowed' }, { type: 'VotingIntentionStated' }])).toThrow();
    expect(() => when.then([{ type: 'UserFollowed', data: { targetId: 2 } }, { type: 'VoteCast' }])).toThrow();
    expect(() => when.then([{ type: 'VoteCast' }, { type: 'UserFollowed' }])).toThrow();
    expect(() => when.then([{ type: 'UserFollowed' }])).toThrow();
    expect(() => when.then([{ type: 'UserFollowed' }, { type: 'VoteCast' }, { type: 'VoteCast' }])).toThrow();
    expect(() => when.then([{ type: 'UserFollowed', meta: { round: 5 } }, { type: 'VoteCast' }])).toThrow();
    expect(() => when.then([{ type: 'UserFollowed', meta: { round: 4 } }, { type: 'VoteCast', data: { voted: true } }])).not.toThrow();
  });
});
