import type { ProviderStats } from '../domain/decision.js';
import type { ProgressEvent } from '../sim/engine.js';

/**
 * Progress of a run: one rewritten line on a terminal, cut to its width (a wider line wraps and
 * every update would leave a row behind), plain lines with every field otherwise (CI logs, pipes).
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
    const s = this.stats?.();
    const where = p.stage === 'election' ? `${p.stream}: election day` : `${p.stream}: round ${p.round} (${p.roundsDone}/${p.roundsTotal})`;
    // Left to right as printed; `keep` ranks what survives a narrow terminal (0 is dropped last).
    const fields: ProgressField[] = [
      { text: where, keep: 0 },
      { text: `${p.activeAgents} agents`, keep: 5 },
      ...(p.fellBack ? [{ text: `${p.fellBack} fell back`, keep: 4 }] : []),
      { text: `${this.roundsDone}/${this.totalRounds} rounds`, keep: 3 },
      { text: `ETA ${formatSeconds(eta)}`, keep: 1 },
      ...(s
        ? [
            { text: `calls ${s.calls}`, keep: 6 },
            { text: `cache hits ${s.cacheHits}`, keep: 7 },
            { text: `cost $${s.costUsd.toFixed(4)}`, keep: 2 },
            ...(endpointsText(s) ? [{ text: endpointsText(s), keep: 8 }] : []),
          ]
        : []),
    ];
    if (this.isTty) {
      // A line as wide as the terminal wraps on some terminals, and a wrapped line is never
      // rewritten by \r: every update would leave a row behind. So at most columns - 1.
      const width = terminalWidth(this.stream) - 1;
      const line = fitFields(fields, width);
      // Blank what is left of a longer previous line, never past the (possibly narrowed) width.
      this.stream.write(`\r${line.padEnd(Math.min(this.lastLineLength, width))}`);
      this.lastLineLength = line.length;
    } else {
      this.stream.write(`${fields.map((f) => f.text).join(SEPARATOR)}\n`);
    }
  }

  done(): void {
    if (this.isTty && this.lastLineLength > 0) this.stream.write('\n');
    this.lastLineLength = 0;
  }
}

/** Per server: state, calls/s, latency p50/p95 and errors (only when there are several; empty otherwise). */
function endpointsText(s: ProviderStats): string {
  const endpoints = s.endpoints ?? [];
  if (endpoints.length < 2) return '';
  const host = (url: string) => url.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  const ms = (x: number | null) => (x === null ? '-' : x.toFixed(0));
  return `${endpoints.map((e) => `${host(e.url)} ${e.state} ${e.callsPerSecond.toFixed(0)}/s ${ms(e.p50Ms)}/${ms(e.p95Ms)}ms ${e.errors} err`).join(', ')}`;
}

export interface ProgressField {
  text: string;
  /** Rank of importance: fields are dropped from the highest rank down until the line fits. */
  keep: number;
}

const SEPARATOR = ' | ';

/**
 * The fields, in their order, joined by " | ", dropping the least important ones until the line
 * fits `width`. If even the most important one does not fit, it is cut with an ellipsis.
 */
export function fitFields(fields: readonly ProgressField[], width: number): string {
  const kept = [...fields];
  const length = () => kept.reduce((n, f) => n + f.text.length, 0) + SEPARATOR.length * Math.max(0, kept.length - 1);
  while (kept.length > 1 && length() > width) {
    const least = kept.reduce((worst, f) => (f.keep > worst.keep ? f : worst));
    kept.splice(kept.indexOf(least), 1);
  }
  const line = kept.map((f) => f.text).join(SEPARATOR);
  if (line.length <= width) return line;
  return width <= 1 ? line.slice(0, Math.max(0, width)) : `${line.slice(0, width - 1)}…`;
}

/** The terminal's width now (it can change between updates); 80 when the stream does not say. */
function terminalWidth(stream: NodeJS.WriteStream): number {
  return stream.columns && stream.columns > 0 ? stream.columns : 80;
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(0)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
