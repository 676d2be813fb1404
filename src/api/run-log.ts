import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ProviderStats } from '../domain/decision.js';
import type { ProgressEvent } from '../sim/engine.js';

/**
 * The run's log under <out>/logs/: one line per round with its timing, memory, calls and
 * fallbacks, as the reference kept. Never holds secrets: only counts and ids are written. A line
 * that cannot be written (ENOSPC) ends the log, never the run.
 */
export class RunLog {
  readonly file: string;

  constructor(outDir: string, runId: number) {
    const dir = join(outDir, 'logs');
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, `run-${runId}.log`);
  }

  /** Set once a line could not be written (a full disk): the log stops there, the run does not. */
  private broken = false;

  line(text: string): void {
    if (this.broken) return;
    try {
      appendFileSync(this.file, `${new Date().toISOString()} ${text}\n`);
    } catch {
      // A log that cannot be written never stops a run (nor hides why it stopped), as a worker's
      // log (./worker-log.ts); the store's own writes report a full disk.
      this.broken = true;
    }
  }

  round(p: ProgressEvent, stats: ProviderStats | undefined): void {
    for (const text of roundLines(p, stats)) this.line(text);
  }
}

/** A round's log lines (its timing, memory, calls and fallbacks, then each endpoint's state): shared with the worker's log. */
export function roundLines(p: ProgressEvent, stats: ProviderStats | undefined, prefix = ''): string[] {
  const mem = process.memoryUsage();
  const llm = stats ? ` calls=${stats.calls} cache_hits=${stats.cacheHits} retries=${stats.retries} failures=${stats.failures} cost_usd=${stats.costUsd.toFixed(6)}` : '';
  return [
    `${prefix}stream=${p.stream} stage=${p.stage} round=${p.round} agents=${p.activeAgents} fell_back=${p.fellBack} ms=${p.roundMs.toFixed(1)} rss_mb=${(mem.rss / 2 ** 20).toFixed(0)} heap_mb=${(mem.heapUsed / 2 ** 20).toFixed(0)}${llm}`,
    ...(stats?.endpoints ?? []).map(
      (e) => `${prefix}endpoint=${e.url} state=${e.state} in_flight=${e.inFlight} limit=${e.limit} calls=${e.calls} answered=${e.answered} errors=${e.errors} calls_per_s=${e.callsPerSecond.toFixed(1)} p50_ms=${e.p50Ms?.toFixed(0) ?? '-'} p95_ms=${e.p95Ms?.toFixed(0) ?? '-'}`,
    ),
  ];
}
