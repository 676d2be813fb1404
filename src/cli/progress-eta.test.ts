import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ProgressEvent } from '../sim/engine.js';
import { ProgressReporter } from './progress.js';

/** A non-terminal stream that keeps what is written. */
function sink(): NodeJS.WriteStream & { text: string } {
  const s = { text: '', isTTY: false, write: (chunk: string) => ((s.text += chunk), true) };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

const round = (n: number, roundMs: number): ProgressEvent => ({ stream: 'control', stage: 'main', round: n, roundsDone: n, roundsTotal: 30, activeAgents: 10, fellBack: 0, roundMs });

describe('ProgressReporter ETA', () => {
  afterEach(() => vi.useRealTimers());

  it('after a resume, is the pace of the rounds run here, not the time spent loading before them', () => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    const out = sink();
    // 78 rounds in all, 50 done before this process started.
    const progress = new ProgressReporter(78, out, undefined, 50);
    // 6 s of loading and folding the recorded events, then a round of 200 ms.
    vi.setSystemTime(6_200);
    progress.update(round(21, 200));
    // 27 rounds left at 0.2 s each: 5.4 s.
    expect(out.text).toMatch(/51\/78 rounds \| ETA 5s/);
    // Two more rounds in 0.4 s: 3 rounds in 0.6 s since the first one started, 25 left: 5 s.
    vi.setSystemTime(6_600);
    progress.update(round(22, 200));
    progress.update(round(23, 200));
    expect(out.text.trim().split('\n').at(-1)).toMatch(/53\/78 rounds \| ETA 5s/);
  });

  it('for a new run, is the elapsed time per round times the rounds left', () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000);
    const out = sink();
    const progress = new ProgressReporter(10, out);
    vi.setSystemTime(4_000);
    // The first round took 1 s and ended at 4 s; the second ends at 6 s: 2 rounds in 3 s, 8 left: 12 s.
    progress.update(round(1, 1_000));
    vi.setSystemTime(6_000);
    progress.update(round(2, 2_000));
    expect(out.text.trim().split('\n').at(-1)).toMatch(/2\/10 rounds \| ETA 12s/);
  });
});
