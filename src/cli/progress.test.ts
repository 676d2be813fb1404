import { describe, expect, it } from 'vitest';
import type { ProviderStats } from '../domain/decision.js';
import type { ProgressEvent } from '../sim/engine.js';
import { fitFields, ProgressReporter } from './progress.js';

/** What a terminal of `columns` columns receives: everything written, as one string. */
function fakeTty(columns: number | undefined) {
  const written: string[] = [];
  const stream = { isTTY: true, columns, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => written.join('') };
}

const stats: ProviderStats = { calls: 1_234_567, cacheHits: 7_654_321, retries: 3, failures: 0, promptTokens: 1, completionTokens: 1, cachedTokens: 0, costUsd: 1234.5678 };

function event(round: number, stream = 'experiment_info_message/12'): ProgressEvent {
  return { stream, stage: 'main', round, roundsDone: round, roundsTotal: 30, activeAgents: 123_456, fellBack: 42, roundMs: 10 };
}

/** The rows a terminal shows: each \r returns to the row's start, each \n starts a new one. */
function visibleSegments(text: string): string[] {
  return text.split(/[\r\n]/).filter((s) => s.length > 0);
}

describe('the progress line on a terminal', () => {
  it('never reaches the width of an 80-column terminal, with LLM statistics and long stream names', () => {
    const tty = fakeTty(80);
    const progress = new ProgressReporter(171, tty.stream, () => stats);
    for (let round = 1; round <= 30; round++) progress.update(event(round));
    progress.update({ ...event(31), stage: 'election' });
    progress.done();
    const segments = visibleSegments(tty.text());
    expect(segments).toHaveLength(31);
    // The full line is far wider: without fitting, each update would wrap and leave a row behind.
    expect(`experiment_info_message/12: round 1 (1/30) | 123456 agents | 42 fell back | 1/171 rounds | ETA 0s | calls 1234567 | cache hits 7654321 | cost $1234.5678`.length).toBeGreaterThan(120);
    for (const s of segments) expect(s.length, s).toBeLessThanOrEqual(79);
    // One update per row rewrite: a single \n, at the end (done).
    expect(tty.text().split('\n')).toHaveLength(2);
  });

  it('keeps where the run is, the ETA and the cost, and drops the least important fields first', () => {
    const tty = fakeTty(80);
    const progress = new ProgressReporter(171, tty.stream, () => stats);
    progress.update(event(7));
    const [line] = visibleSegments(tty.text());
    expect(line).toMatch(/^experiment_info_message\/12: round 7 \(7\/30\) \| /);
    expect(line).toContain('ETA ');
    expect(line).toContain('cost $1234.5678');
    expect(line).not.toContain('cache hits');
    expect(line).not.toContain('calls');
  });

  it('follows the terminal when it narrows, and blanks only within the new width', () => {
    const tty = fakeTty(120);
    const progress = new ProgressReporter(171, tty.stream, () => stats);
    progress.update(event(1));
    (tty.stream as { columns: number }).columns = 40;
    progress.update(event(2));
    const segments = visibleSegments(tty.text());
    expect(segments[0].length).toBeLessThanOrEqual(119);
    expect(segments[1].length).toBeLessThanOrEqual(39);
    expect(segments[1]).toMatch(/^experiment_info_message\/12: round 2/);
  });

  it('assumes 80 columns when the terminal does not say', () => {
    const tty = fakeTty(undefined);
    const progress = new ProgressReporter(171, tty.stream, () => stats);
    progress.update(event(1));
    expect(visibleSegments(tty.text())[0].length).toBeLessThanOrEqual(79);
  });

  it('prints every field, one line per update, when not a terminal (logs, pipes)', () => {
    const written: string[] = [];
    const stream = { isTTY: false, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const progress = new ProgressReporter(171, stream, () => stats);
    progress.update(event(1));
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^experiment_info_message\/12: round 1 \(1\/30\) \| 123456 agents \| 42 fell back \| 1\/171 rounds \| ETA \S+ \| calls 1234567 \| cache hits 7654321 \| cost \$1234\.5678\n$/);
  });
});

describe('fitFields', () => {
  const fields = [
    { text: 'aaaa', keep: 0 },
    { text: 'bb', keep: 2 },
    { text: 'cc', keep: 1 },
  ];
  it('keeps everything that fits, in order', () => {
    expect(fitFields(fields, 14)).toBe('aaaa | bb | cc');
  });
  it('drops the highest rank first, keeping the order of the rest', () => {
    expect(fitFields(fields, 13)).toBe('aaaa | cc');
    expect(fitFields(fields, 8)).toBe('aaaa');
  });
  it('cuts the last field standing with an ellipsis', () => {
    expect(fitFields(fields, 3)).toBe('aa…');
  });
});
