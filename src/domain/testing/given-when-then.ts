import { expect } from 'vitest';
import type { EventType, SimEvent } from '../events.js';
import { evolveAll } from '../evolve.js';
import { emptyWorld, type World } from '../world.js';

/**
 * Given/when/then for the domain's decisions (Emmett's decider specification, in our terms):
 *
 *   given(recorded events)                 folded by `evolve` into the world a decision sees
 *     .when((world) => decided events)     a turn, a vote, an initial post... with its answer
 *     .then([expected events])             in order; returns the world after them
 *
 * An expected event names its type and, optionally, its data and meta; the parts it leaves out are
 * not compared, and data may be a matcher (expect.objectContaining). Test code only: it asserts
 * with vitest.
 */
export interface ExpectedEvent {
  type: EventType;
  data?: unknown;
  meta?: Partial<SimEvent['meta']>;
}

export interface Given {
  /** The world the events fold into. */
  readonly world: World;
  when(decide: (world: World) => readonly SimEvent[]): When;
}

export interface When {
  /** The events the decision returned. */
  readonly events: readonly SimEvent[];
  /** Asserts the decided events, in order, and returns the world after them. */
  then(expected: readonly ExpectedEvent[]): World;
}

export function given(events: readonly SimEvent[], initial: World = emptyWorld()): Given {
  const world = evolveAll(initial, events);
  return {
    world,
    when(decide) {
      const decided = decide(world);
      return {
        events: decided,
        then(expected) {
          expect(decided.map((event, i) => shown(event, expected[i]))).toEqual(expected);
          return evolveAll(world, decided);
        },
      };
    },
  };
}

/** The parts of `event` that `expected` names (all of type, data and meta when there is no expectation). */
function shown(event: SimEvent, expected: ExpectedEvent | undefined): ExpectedEvent {
  const out: ExpectedEvent = { type: event.type };
  if (!expected || 'data' in expected) out.data = event.data;
  if (expected?.meta) out.meta = Object.fromEntries(Object.keys(expected.meta).map((k) => [k, event.meta[k as keyof SimEvent['meta']]]));
  else if (!expected) out.meta = event.meta;
  return out;
}
