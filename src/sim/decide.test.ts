import { describe, expect, it } from 'vitest';
import type { DecisionRequest, Provider, ProviderAnswer } from '../domain/decision.js';
import { decideAll } from './decide.js';

/** A provider that answers after a delay and logs when each answer and the persist call happen. */
function loggingProvider(log: string[], withPersist: boolean): Provider {
  const p: Provider = {
    name: 'log',
    offline: false,
    async decide(request: DecisionRequest): Promise<ProviderAnswer> {
      await new Promise((r) => setTimeout(r, 5 * (request.key.agentId + 1)));
      log.push(`answer ${request.key.agentId}`);
      return { ok: true, answer: { likelihood: 3 } } as unknown as ProviderAnswer;
    },
  };
  if (withPersist) {
    p.persist = async () => {
      await new Promise((r) => setTimeout(r, 5));
      log.push('persisted');
    };
  }
  return p;
}

const request = (agentId: number) => ({ purpose: 'vote', key: { seed: 1, agentId, round: 1, purpose: 'vote' } }) as unknown as DecisionRequest;

describe('decideAll', () => {
  it('makes the answers durable once all are in, before it returns them to be appended', async () => {
    const log: string[] = [];
    const answers = await decideAll(loggingProvider(log, true), [request(2), request(0), request(1)], undefined, 1, 'control');
    log.push('returned');
    expect(answers).toHaveLength(3);
    expect(log).toEqual(['answer 0', 'answer 1', 'answer 2', 'persisted', 'returned']);
  });

  it('works with a provider that has nothing to persist (the offline model)', async () => {
    const log: string[] = [];
    await decideAll(loggingProvider(log, false), [request(0)], undefined, 1, 'control');
    expect(log).toEqual(['answer 0']);
  });
});
