import { describe, expect, it } from 'vitest';
import { AdaptiveLimiter } from './limiter.js';

/** A task that stays in flight until released, recording when it started. */
function gate(started: number[], id: number) {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return { task: () => (started.push(id), done), release: () => release() };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('AdaptiveLimiter', () => {
  it('keeps at most `max` tasks in flight and starts the waiting ones in arrival order', async () => {
    const limiter = new AdaptiveLimiter(3);
    const started: number[] = [];
    const gates = Array.from({ length: 3000 }, (_, i) => gate(started, i));
    const runs = gates.map((g) => limiter.run(g.task));
    await tick();
    expect(started).toEqual([0, 1, 2]);
    for (let i = 0; i < gates.length; i++) {
      gates[i].release();
      await tick();
      expect(started.length).toBe(Math.min(gates.length, i + 4));
    }
    await Promise.all(runs);
    expect(started).toEqual(gates.map((_, i) => i));
    expect(limiter.maxObserved).toBe(3);
  });

  it('shrinks to 70% on a rate limit and grows back one step per 20 successes', () => {
    const limiter = new AdaptiveLimiter(10);
    limiter.onRateLimited();
    expect(limiter.current).toBe(7);
    limiter.onRateLimited();
    expect(limiter.current).toBe(4);
    for (let i = 0; i < 19; i++) limiter.onSuccess();
    expect(limiter.current).toBe(4);
    limiter.onSuccess();
    expect(limiter.current).toBe(5);
    for (let i = 0; i < 200; i++) limiter.onSuccess();
    expect(limiter.current).toBe(10);
  });
});
