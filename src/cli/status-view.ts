import type { RunJobsStatus, StreamStatus } from '../api/status.js';
import { lastRoundOf } from '../sim/run-catalogue.js';
import { cut, fittedLines } from './table.js';

/**
 * What `sim status` prints: one line per run (live runs first, then the others, most recent first),
 * within the terminal's width; with a height (`--watch`), as many runs as fit and a line saying how
 * many more there are. `--run ID` prints one run in detail instead: a line per stream.
 */

const ago = (iso: string | null, nowMs: number): string => {
  if (!iso) return '';
  const s = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
};
const rate = (r: number | null): string => (r === null ? '' : r.toFixed(r < 10 ? 2 : 1));

/** Live runs (a job running or queued) first, then the others; most recent (highest id) first in each. */
export function statusOrder(runs: readonly RunJobsStatus[]): RunJobsStatus[] {
  return [...runs].sort((a, b) => Number(b.live) - Number(a.live) || b.runId - a.runId);
}

/** A run's jobs in a few words: "2 running, 1 queued", "1 failed", "done". */
function jobsSummary(streams: readonly StreamStatus[]): string {
  const count = (state: StreamStatus['state']) => streams.filter((s) => s.state === state).length;
  const parts = (['running', 'queued', 'failed'] as const).flatMap((state) => (count(state) > 0 ? [`${count(state)} ${state}`] : []));
  if (parts.length > 0) return parts.join(', ');
  return count('done') === streams.length ? 'done' : '-';
}

/** The least advanced unfinished stream's last complete round, with its name ("12 (control)"); the last round when all are done. */
function roundCell(streams: readonly StreamStatus[]): string {
  const { lastRound, inProgress } = lastRoundOf(streams.map((s) => ({ name: s.stream, lastRound: s.round, lastType: s.state === 'done' ? 'StageCompleted' : null })));
  return `${lastRound ?? '-'}${inProgress ? ` (${inProgress})` : ''}`;
}

function runRow(run: RunJobsStatus): Array<string | number> {
  const running = run.streams.filter((s) => s.state === 'running');
  const rates = running.flatMap((s) => (s.roundsPerSecond === null ? [] : [s.roundsPerSecond]));
  const workers = [...new Set(running.flatMap((s) => (s.worker ? [s.worker] : [])))];
  const reason = run.streams.find((s) => s.reason !== null)?.reason ?? '';
  return [
    run.runId,
    run.status,
    `${run.streams.filter((s) => s.state === 'done').length}/${run.streams.length}`,
    jobsSummary(run.streams),
    roundCell(run.streams),
    rates.length === 0 ? '' : rate(rates.reduce((a, b) => a + b, 0)),
    workers.join(','),
    reason,
  ];
}

const RUN_HEADERS = ['run', 'status', 'done', 'jobs', 'round', 'rounds/s', 'workers', 'reason'];
/** Cut first when the terminal is narrow: the failure reason, the round's stream name, the workers, the jobs. */
const RUN_SHRINK = [7, 4, 6, 3];

/**
 * The run listing: a header, a rule, one line per run, none wider than `width`. With `height` (a
 * terminal's rows), at most that many lines: the runs that fit, then "... N more finished" (or the
 * states of those left out).
 */
export function statusLines(runs: readonly RunJobsStatus[], options: { width: number; height?: number }): string[] {
  if (runs.length === 0) return ['no runs'];
  const ordered = statusOrder(runs);
  const room = options.height === undefined ? ordered.length : Math.max(1, options.height - 2);
  const shown = ordered.length <= room ? ordered : ordered.slice(0, Math.max(1, room - 1));
  const rows = shown.map(runRow);
  const hidden = ordered.slice(shown.length);
  // The reason column only when some run shown has one.
  const withReason = rows.some((r) => r[7] !== '');
  const lines = fittedLines(withReason ? RUN_HEADERS : RUN_HEADERS.slice(0, 7), withReason ? rows : rows.map((r) => r.slice(0, 7)), RUN_SHRINK.filter((i) => withReason || i !== 7), options.width);
  if (hidden.length > 0) lines.push(cut(`... ${hidden.length} more ${moreStates(hidden)}`, options.width));
  return lines;
}

function moreStates(hidden: readonly RunJobsStatus[]): string {
  const byStatus = new Map<string, number>();
  for (const r of hidden) byStatus.set(r.live ? 'live' : r.status, (byStatus.get(r.live ? 'live' : r.status) ?? 0) + 1);
  if (byStatus.size === 1) return [...byStatus.keys()][0];
  return `(${[...byStatus].sort(([a], [b]) => a.localeCompare(b)).map(([status, n]) => `${n} ${status}`).join(', ')})`;
}

const STREAM_HEADERS = ['stream', 'job', 'worker', 'since', 'round', 'rounds/s', 'tries', 'reason'];

/**
 * One run in detail: a line about the run, then one line per stream: its job's state, worker, since
 * when, last complete round, rounds/s, the times its job was started (blank when it never ran) and
 * the reason of a failure.
 */
export function runDetailLines(run: RunJobsStatus, options: { width: number; nowMs: number }): string[] {
  const done = run.streams.filter((s) => s.state === 'done').length;
  const head = cut(`run ${run.runId}  ${run.status}  seed ${run.seed}  created ${run.createdAt}  ${done}/${run.streams.length} streams done`, options.width);
  const rows = run.streams.map((s) => [s.stream, s.state, s.worker ?? '', ago(s.since, options.nowMs), s.round ?? '-', rate(s.roundsPerSecond), s.attempts === 0 ? '' : s.attempts, s.reason ?? '']);
  const withReason = rows.some((r) => r[7] !== '');
  return [head, ...fittedLines(withReason ? STREAM_HEADERS : STREAM_HEADERS.slice(0, 7), withReason ? rows : rows.map((r) => r.slice(0, 7)), withReason ? [7, 2, 0] : [2, 0], options.width)];
}
