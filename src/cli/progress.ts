import type { ProviderStats } from '../domain/decision.js';
import type { ProgressEvent } from '../sim/engine.js';

/**
 * Progress of a run: one rewritten line on a terminal, plain lines otherwise (CI logs, pipes).
 * ETA is estimated from the pace of the rounds this process ran (across all streams), timed from
 * the start of its first round: not from the process's start, whose loading (on a resume, folding
 * every recorded event) is no round's time, and not from rounds a resumed run did before.
 */
export class ProgressReporter {
  /** When this process's first round started (null before its first round ends). */
  private startedAt: number | null = null;
  private roundsDone: number;
  private lastLineLength = 0;

  /** `alreadyDone`: rounds a resumed run finished before this process started (not in its pace). */
  constructor(
    private readonly totalRounds: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly stats?: () => ProviderStats | undefined,
    private readonly alreadyDone = 0,
  ) {
    this.roundsDone = alreadyDone;
  }

  get isTty(): boolean {
    return Boolean(this.stream.isTTY);
  }

  update(p: ProgressEvent): void {
    this.roundsDone += 1;
    const now = Date.now();
    this.startedAt ??= now - p.roundMs;
    const elapsed = Math.max(0, now - this.startedAt) / 1000;
    const remaining = Math.max(0, this.totalRounds - this.roundsDone);
    const eta = (elapsed / (this.roundsDone - this.alreadyDone)) * remaining;
    const where = p.stage === 'election' ? `${p.stream}: election day` : `${p.stream}: round ${p.round} (${p.roundsDone}/${p.roundsTotal})`;
    const s = this.stats?.();
    const llm = s ? ` | calls ${s.calls} cache hits ${s.cacheHits} cost $${s.costUsd.toFixed(4)}${endpointsText(s)}` : '';
    const line = `${where} | ${p.activeAgents} agents${p.fellBack ? `, ${p.fellBack} fell back` : ''} | ${this.roundsDone}/${this.totalRounds} rounds | ETA ${formatSeconds(eta)}${llm}`;
    if (this.isTty) {
      this.stream.write(`\r${line.padEnd(this.lastLineLength)}`);
      this.lastLineLength = line.length;
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  done(): void {
    if (this.isTty && this.lastLineLength > 0) this.stream.write('\n');
    this.lastLineLength = 0;
  }
}

/** Per server: state, calls/s, latency p50/p95 and errors (only when there are several). */
export function endpointsText(s: ProviderStats): string {
  const endpoints = s.endpoints ?? [];
  if (endpoints.length < 2) return '';
  const host = (url: string) => url.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  const ms = (x: number | null) => (x === null ? '-' : x.toFixed(0));
  return ` | ${endpoints.map((e) => `${host(e.url)} ${e.state} ${e.callsPerSecond.toFixed(0)}/s ${ms(e.p50Ms)}/${ms(e.p95Ms)}ms ${e.errors} err`).join(', ')}`;
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(0)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
