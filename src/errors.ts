/**
 * Every failure a user can see has its own class, with a one-line message saying what went wrong
 * and where (file, line, flag), so the CLI can print it without a stack trace. Each also carries
 * a `code` and the fields a program needs (the flag, file, line, stream, position) so a caller of
 * src/api never parses the message; `toJSON()` gives them all. Exit codes are mapped from the code
 * in one place, EXIT_CODES below.
 */

/** The kind of failure, stable for programs (the message may be reworded). */
export type ErrorCode =
  | 'usage'
  | 'database'
  | 'stream_conflict'
  | 'config'
  | 'input_file'
  | 'output_write'
  | 'run_not_found'
  | 'not_found'
  | 'integrity'
  | 'interrupted'
  | 'run_busy'
  | 'llm_configuration'
  | 'llm_unavailable'
  | 'store_unavailable'
  | 'store_full'
  | 'fallback_budget'
  | 'cache_miss'
  | 'cost_cap'
  | 'error';

/**
 * The process exit code of each kind of failure: the only place exit codes are decided (the README
 * lists them: 0 ok, 1 error, 2 usage, 3 LLM unavailable, 4 spending cap reached, 130 interrupted). `unexpected` is any
 * error that is not ours.
 */
export const EXIT_CODES: Readonly<Record<ErrorCode | 'unexpected', number>> = {
  usage: 2,
  database: 1,
  stream_conflict: 1,
  config: 1,
  input_file: 1,
  output_write: 1,
  run_not_found: 1,
  not_found: 1,
  integrity: 1,
  // Like a shell's 128 + SIGINT: the run stopped cleanly and `sim resume` continues it.
  interrupted: 130,
  run_busy: 1,
  llm_configuration: 1,
  // Its own code so scripts can wait for the server and retry.
  llm_unavailable: 3,
  // Like the LLM's: the store's server went away mid-command; wait for it and `sim resume`.
  store_unavailable: 3,
  store_full: 1,
  fallback_budget: 1,
  cache_miss: 1,
  // Its own code: the run stopped cleanly where --max-cost said; `sim resume --max-cost MORE` continues.
  cost_cap: 4,
  error: 1,
  unexpected: 1,
};

/**
 * The exit code of a command whose reader closed its output (`sim runs | head -1`): it stops at
 * once, quietly, with the status a shell reports for any Unix tool cut short that way (128 +
 * SIGPIPE), as `git log | head -1` does; a pipeline's status is still the reader's unless `set -o
 * pipefail`, and then a run cut short does not pass for a finished one.
 */
export const CLOSED_OUTPUT_EXIT = 141;

/** The exit code for any thrown value: ours by its code, anything else is unexpected. */
export function exitCodeOf(error: unknown): number {
  return error instanceof SimError ? EXIT_CODES[error.code] : EXIT_CODES.unexpected;
}

/** The fields an error may carry besides its message (each class documents which it sets). */
export interface ErrorFields {
  /** The command-line flag (or argument name) the problem is about. */
  flag?: string | null;
  /** The file or folder the problem is about. */
  file?: string | null;
}

export class SimError extends Error {
  readonly code: ErrorCode = 'error';
  readonly flag: string | null;
  readonly file: string | null;
  constructor(message: string, fields: ErrorFields = {}) {
    super(message);
    this.name = new.target.name;
    this.flag = fields.flag ?? null;
    this.file = fields.file ?? null;
  }

  /** Process exit code the CLI uses for this kind of failure (from EXIT_CODES). */
  get exitCode(): number {
    return EXIT_CODES[this.code];
  }

  /** The code, message and every data field, for a program (e.g. a JSON error report). */
  toJSON(): Record<string, unknown> {
    const fields: Record<string, unknown> = { code: this.code, message: this.message };
    for (const [key, value] of Object.entries(this)) if (key !== 'name') fields[key] = value;
    return fields;
  }
}

/** The flag a usage message starts with ("--seed: ...", "--config x.json: ..."), when it does. */
function leadingFlag(message: string): string | null {
  return /^(--[a-z][\w-]*)/.exec(message)?.[1] ?? null;
}

/** A flag or argument the user gave is wrong (exit code 2, like other usage errors). `flag` names it. */
export class UsageError extends SimError {
  override readonly code = 'usage';
  constructor(message: string, fields: ErrorFields = {}) {
    super(message, { ...fields, flag: fields.flag !== undefined ? fields.flag : leadingFlag(message) });
  }
}

/** The database file cannot be opened, is not ours, is too new, or the disk refused a write. */
export class DatabaseError extends SimError {
  override readonly code = 'database';
}

/** Another writer appended to a stream since the caller read it. */
export class StreamConflictError extends SimError {
  override readonly code = 'stream_conflict';
  /** The stream (also as `stream`), the position the writer expected and the one it found. */
  readonly stream: string;
  constructor(
    readonly streamId: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`stream ${streamId}: expected to append after position ${expected}, but it is at ${actual} (another process wrote to it)`);
    this.stream = streamId;
  }
}

/** Where in a file a problem is, when known (1-based). */
export interface FilePosition {
  line: number;
  column: number;
}

/**
 * An experiment config breaks a rule; lists every problem found. `source` is what was read (a file,
 * "flags", "x.json with flags"); `file` is the file when there is one; `position` the line and
 * column of a JSON syntax error.
 */
export class ConfigError extends SimError {
  override readonly code = 'config';
  readonly position: FilePosition | null;
  /** The config key each problem is about ("feed.length", "(root)"), null when it names none. */
  readonly keys: Array<string | null>;
  constructor(
    readonly source: string,
    readonly problems: string[],
    position?: FilePosition,
  ) {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems.join('; ')}`, { file: configFile(source) });
    this.position = position ?? null;
    this.keys = problems.map((p) => /^([A-Za-z_][\w.\[\]]*|\(root\)): /.exec(p)?.[1] ?? null);
  }
}

/** The file a config source names ("x.json", "x.json with flags"), or null (flags, a run's stored config). */
function configFile(source: string): string | null {
  if (source === 'flags' || /^run \d+/.test(source)) return null;
  return source.replace(/ with flags$/, '');
}

/** One problem of a user-supplied data file: the file, its line (null for the whole file), what is wrong. */
export interface InputProblem {
  file: string;
  line: number | null;
  problem: string;
}

/**
 * A user-supplied data file (profiles.csv, network.csv...) has bad rows; lists up to 20 of them.
 * `problems` are the lines printed ("FILE:LINE: problem"); `rows` the same as data, `more` how
 * many were found beyond them.
 */
export class InputFileError extends SimError {
  override readonly code = 'input_file';
  readonly rows: InputProblem[];
  readonly more: number;
  readonly problems: string[];
  constructor(rows: InputProblem[], more = 0) {
    const lines = rows.map((r) => `${r.file}${r.line === null ? '' : `:${r.line}`}: ${r.problem}`);
    const problems = more > 0 ? [...lines, `... and ${more} more problem${more === 1 ? '' : 's'}`] : lines;
    super(problems.length === 1 ? problems[0] : `${problems.length} problems in input files:\n  ${problems.join('\n  ')}`, { file: rows.length > 0 && rows.every((r) => r.file === rows[0].file) ? rows[0].file : null });
    this.rows = rows;
    this.more = more;
    this.problems = problems;
  }
}

/** A file or folder could not be written for a reason other than its path (disk full, I/O error). */
export class OutputWriteError extends SimError {
  override readonly code = 'output_write';
}

/** A run id that does not exist, or a run in a state the command cannot work on. */
export class RunNotFoundError extends SimError {
  override readonly code = 'run_not_found';
}

/** A user or condition the run does not have (well-formed, but not in the data: not a usage error). */
export class NotFoundError extends SimError {
  override readonly code = 'not_found';
}

/** Where a hash chain breaks: the database, the stream, the first bad event and why. */
export interface ChainBreakAt {
  file: string;
  stream: string;
  /** The first bad event's position in its stream, and in the whole log (-1 when no event is to blame, e.g. a bad head). */
  streamPosition: number;
  position: number;
  reason: string;
}

/** The recorded hash chain does not match the events. `broken` says where, when known. */
export class IntegrityError extends SimError {
  override readonly code = 'integrity';
  readonly broken: ChainBreakAt | null;
  constructor(detail: string | ChainBreakAt) {
    super(typeof detail === 'string' ? detail : `${detail.file}: stream ${detail.stream} is broken at stream position ${detail.streamPosition} (event ${detail.position}): ${detail.reason}`, {
      file: typeof detail === 'string' ? null : detail.file,
    });
    this.broken = typeof detail === 'string' ? null : detail;
  }
}

/** The user stopped a run (Ctrl-C) or it was told to stop: what was committed stays; resume goes on. */
export class InterruptedError extends SimError {
  override readonly code = 'interrupted';
  constructor(
    readonly round: number,
    readonly stream?: string,
    /** The command that continues the run, when known (the CLI names the run and folder). */
    readonly resume = 'sim resume',
  ) {
    super(`interrupted before round ${round}${stream ? ` of ${stream}` : ''} was recorded; every round before it is saved: \`${resume}\` continues`);
  }
}

/**
 * The store's server went away while a command used it (PostgreSQL restarted, the network dropped):
 * what was committed stays, the transaction in flight was rolled back. In a run, `resume` names the
 * command that continues it once the server is back.
 */
export class StoreUnavailableError extends SimError {
  override readonly code = 'store_unavailable';
  constructor(
    /** What was lost, naming the store (the URL with its password masked). */
    readonly detail: string,
    readonly resume: string | null = null,
    options: { cause?: unknown } = {},
  ) {
    super(resume ? `${detail}; every round before it is saved: \`${resume}\` continues once the server is back` : detail);
    // The driver's error, for --debug; not enumerable, so toJSON() stays plain data.
    if (options.cause !== undefined) Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false });
  }
}

/**
 * The store's disk is full (SQLite's file system: ENOSPC, SQLITE_FULL; PostgreSQL's server: 53100).
 * The transaction in flight was rolled back whole; everything committed before it is kept. In a
 * run, `resume` names the command that continues it once there is space.
 */
export class StoreFullError extends SimError {
  override readonly code = 'store_full';
  constructor(
    /** What could not be written, naming the store. */
    readonly detail: string,
    readonly resume: string | null = null,
  ) {
    super(resume ? `${detail}; every round before it is saved: free some space, then \`${resume}\` continues` : detail);
  }
}

/**
 * A run stopped at a round boundary because the round would have taken its spend past the cap
 * (--max-cost, llm.max_cost_usd). Nothing of that round was recorded; `sim resume --max-cost MORE`
 * continues it, with the fingerprint of an uncapped run.
 */
export class CostCapError extends SimError {
  override readonly code = 'cost_cap';
  constructor(
    readonly round: number,
    readonly stream: string,
    /** USD the run has spent so far (all processes), the cap, and what the rest of the run would cost (an estimate). */
    readonly spentUsd: number,
    readonly capUsd: number,
    readonly restUsd: number,
    /** The command that continues the run, when known (the CLI names the run, folder and a cap that covers the rest). */
    readonly resume = 'sim resume --max-cost USD',
  ) {
    super(`stopped at the spending cap before round ${round} of ${stream}: spent $${formatUsd(spentUsd)} of $${formatUsd(capUsd)} (--max-cost); the rest would cost about $${formatUsd(restUsd)}: \`${resume}\` continues`);
  }
}

/** USD for a message: cents from $1 up, else to a hundredth of a cent (a small pilot's costs). */
export function formatUsd(usd: number): string {
  return usd >= 1 || usd === 0 ? usd.toFixed(2) : usd.toFixed(4);
}

/** Another live process is executing the run. */
export class RunBusyError extends SimError {
  override readonly code = 'run_busy';
}

/** The LLM server refused the key (401/403) or does not know the model (404): stop at once. */
export class LlmConfigurationError extends SimError {
  override readonly code = 'llm_configuration';
}

/**
 * The LLM server gave no answer (connection refused, timeouts, 5xx) for longer than the run allows.
 * Nothing unanswered was recorded; `sim resume` asks again. Its own exit code so scripts can wait
 * for the server and retry.
 */
export class LlmUnavailableError extends SimError {
  override readonly code = 'llm_unavailable';
}

/**
 * More of a stream's decisions fell back than --max-fallback-rate allows: a study that is mostly
 * fallbacks is not a result. The round was not recorded; its answers are cached.
 */
export class FallbackBudgetError extends SimError {
  override readonly code = 'fallback_budget';
  constructor(
    message: string,
    /** The stream, its decisions and those that fell back so far, and the budget (a share). */
    readonly budget: { stream: string; decisions: number; fellBack: number; maxRate: number },
  ) {
    super(message, { flag: '--max-fallback-rate' });
  }
}

/** --cache-only (replay) needed an answer the cache does not hold. */
export class CacheMissError extends SimError {
  override readonly code = 'cache_miss';
  constructor(
    message: string,
    /** The decision the cache did not hold. */
    readonly request: { agentId: number; round: number; purpose: string },
  ) {
    super(message, { flag: '--cache-only' });
  }
}
