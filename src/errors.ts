/**
 * Every failure a user can see has its own class, with a one-line message saying what went wrong
 * and where (file, line, flag), so the CLI can print it without a stack trace.
 */
export class SimError extends Error {
  /** Process exit code the CLI uses for this kind of failure. */
  readonly exitCode: number = 1;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A flag or argument the user gave is wrong (exit code 2, like other usage errors). */
export class UsageError extends SimError {
  override readonly exitCode = 2;
}

/** The database file cannot be opened, is not ours, is too new, or the disk refused a write. */
export class DatabaseError extends SimError {}

/** Another writer appended to a stream since the caller read it. */
export class StreamConflictError extends SimError {
  constructor(
    readonly streamId: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`stream ${streamId}: expected to append after position ${expected}, but it is at ${actual} (another process wrote to it)`);
  }
}

/** An experiment config breaks a rule; lists every problem found. */
export class ConfigError extends SimError {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems.join('; ')}`);
  }
}

/** A user-supplied data file (profiles.csv, network.csv...) has bad rows; lists up to 20 of them. */
export class InputFileError extends SimError {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `${problems.length} problems in input files:\n  ${problems.join('\n  ')}`);
  }
}

/** A file or folder could not be written for a reason other than its path (disk full, I/O error). */
export class OutputWriteError extends SimError {}

/** A run id that does not exist, or a run in a state the command cannot work on. */
export class RunNotFoundError extends SimError {}

/** A user or condition the run does not have (well-formed, but not in the data: not a usage error). */
export class NotFoundError extends SimError {}

/** The recorded hash chain does not match the events. */
export class IntegrityError extends SimError {}

/** The user stopped a run (Ctrl-C) or it was told to stop: what was committed stays; resume goes on. */
export class InterruptedError extends SimError {
  override readonly exitCode = 130;
  constructor(
    readonly round: number,
    readonly stream?: string,
    /** The command that continues the run, when known (the CLI names the run and folder). */
    resume = 'sim resume',
  ) {
    super(`interrupted before round ${round}${stream ? ` of ${stream}` : ''} was recorded; every round before it is saved: \`${resume}\` continues`);
  }
}

/** Another live process is executing the run. */
export class RunBusyError extends SimError {}

/** The LLM server refused the key (401/403) or does not know the model (404): stop at once. */
export class LlmConfigurationError extends SimError {}

/**
 * The LLM server gave no answer (connection refused, timeouts, 5xx) for longer than the run allows.
 * Nothing unanswered was recorded; `sim resume` asks again. Its own exit code so scripts can wait
 * for the server and retry.
 */
export class LlmUnavailableError extends SimError {
  override readonly exitCode = 3;
}

/**
 * More of a stream's decisions fell back than --max-fallback-rate allows: a study that is mostly
 * fallbacks is not a result. The round was not recorded; its answers are cached.
 */
export class FallbackBudgetError extends SimError {}

/** --cache-only (replay) needed an answer the cache does not hold. */
export class CacheMissError extends SimError {}
