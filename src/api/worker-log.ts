import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerEvent } from './worker-events.js';
import { roundLines } from './run-log.js';

/**
 * A `sim worker`'s log under <out>/logs/worker-NAME.log: its jobs as they start, end, are
 * re-enqueued, dropped or fail, and every round of them with its timing, memory and (LLM jobs)
 * calls, as a run's own log has (./run-log.ts). Only counts, ids and the reasons of failures are
 * written: no secrets. A log that cannot be written never stops a job.
 */
export class WorkerLog {
  readonly file: string;
  private broken = false;

  constructor(outDir: string, name: string) {
    const dir = join(outDir, 'logs');
    // A worker's name is the user's or host:pid; the file's is kept to safe characters.
    this.file = join(dir, `worker-${name.replace(/[^A-Za-z0-9._-]+/g, '_')}.log`);
    try {
      mkdirSync(dir, { recursive: true });
    } catch {
      this.broken = true;
    }
  }

  event(e: WorkerEvent): void {
    const lines = e.kind === 'progress' ? roundLines(e.progress, e.stats, `run=${e.runId} `) : [describeForLog(e)];
    if (this.broken) return;
    try {
      const at = new Date().toISOString();
      appendFileSync(this.file, lines.map((l) => `${at} ${l}\n`).join(''));
    } catch {
      this.broken = true;
    }
  }
}

function describeForLog(e: Exclude<WorkerEvent, { kind: 'progress' }>): string {
  switch (e.kind) {
    case 'started':
      return `worker=${e.name} started jobs_at_a_time=${e.jobs}`;
    case 'job':
      return `run=${e.runId} stream=${e.stream} job=started from_round=${e.fromRound ?? 'none'}${e.thread !== null ? ` thread=${e.thread}` : ''}`;
    case 'sliced':
    case 'released':
      return `run=${e.runId} stream=${e.stream} job=${e.kind} before_round=${e.round}`;
    case 'done':
      return `run=${e.runId} stream=${e.stream} job=done${e.next.length ? ` enqueued=${e.next.join(',')}` : ''}${e.runFinished ? ' run=finished' : ''}`;
    case 'dropped':
      return `run=${e.runId} stream=${e.stream} job=dropped reason=${JSON.stringify(e.reason)}`;
    case 'failed':
      return `run=${e.runId} stream=${e.stream} job=failed permanent=${e.permanent} reason=${JSON.stringify(e.reason)}`;
    case 'store-lost':
      return `store=lost retry_seconds=${e.retrySeconds} reason=${JSON.stringify(e.reason)}`;
    case 'capped':
      return `run=${e.runId} stream=${e.stream} job=capped before_round=${e.round} reason=${JSON.stringify(e.reason)}`;
  }
}
