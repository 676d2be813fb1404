import { describe, expect, it } from 'vitest';
import { parseExperiment } from './domain/config.js';
import { ConfigError, CostCapError, EXIT_CODES, exitCodeOf, InputFileError, IntegrityError, InterruptedError, LlmUnavailableError, OutputWriteError, SimError, StreamConflictError, UsageError } from './errors.js';

describe('errors carry data', () => {
  it('maps each kind of failure to its exit code in one table (the README\'s: 2 usage, 3 LLM unavailable, 130 interrupted, else 1)', () => {
    expect(exitCodeOf(new UsageError('--seed: "x" is not an integer'))).toBe(2);
    expect(exitCodeOf(new LlmUnavailableError('cannot connect'))).toBe(3);
    expect(exitCodeOf(new InterruptedError(12, 'run/1/control'))).toBe(130);
    expect(exitCodeOf(new ConfigError('x.json', ['seed: must be an integer']))).toBe(1);
    expect(exitCodeOf(new Error('not ours'))).toBe(1);
    expect(exitCodeOf('a string')).toBe(1);
    // The property the worker threads send across is read from the same table.
    expect(new InterruptedError(3).exitCode).toBe(EXIT_CODES.interrupted);
    const codes = new Set(Object.values(EXIT_CODES));
    expect(exitCodeOf(new CostCapError(5, 'control', 0.9, 1, 3.2))).toBe(4);
    expect([...codes].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 130]);
  });

  it('names the flag of a usage error, from the message or given', () => {
    expect(new UsageError('--n-users: must be at least 1 (got 0)').flag).toBe('--n-users');
    expect(new UsageError('--config x.json: cannot read (ENOENT)', { file: 'x.json' })).toMatchObject({ code: 'usage', flag: '--config', file: 'x.json' });
    expect(new UsageError('user id: "x" is not an integer').flag).toBeNull();
    expect(new OutputWriteError('--to out: could not write (EIO)', { flag: '--to', file: 'out' })).toMatchObject({ code: 'output_write', flag: '--to', file: 'out' });
  });

  it('gives a config error its file and, for bad JSON, the line and column', () => {
    const e = new ConfigError('exp.json', ['line 3, column 11: not valid JSON: expected a value'], { line: 3, column: 11 });
    expect(e).toMatchObject({ code: 'config', file: 'exp.json', position: { line: 3, column: 11 } });
    expect(new ConfigError('exp.json with flags', ['seed: x']).file).toBe('exp.json');
    expect(new ConfigError('flags', ['seed: x']).file).toBeNull();
    expect(new ConfigError('run 4 config', ['seed: x']).file).toBeNull();
    expect(new ConfigError('exp.json', ['feed.length: must be at least 1', '(root): must be a JSON object ({...})']).keys).toEqual(['feed.length', '(root)']);
    expect(e.keys).toEqual([null]);
    // As the config parser reports them.
    let parsed: unknown;
    try {
      parseExperiment({ n_users: 0, seed: 'x' }, 'x.json');
    } catch (error) {
      parsed = error;
    }
    expect(parsed).toMatchObject({ code: 'config', file: 'x.json', keys: ['n_users', 'seed'] });
  });

  it('keeps each bad input row as data and prints them as FILE:LINE: problem', () => {
    const one = new InputFileError([{ file: 'p.csv', line: 3, problem: 'age "x" is not an integer' }]);
    expect(one.message).toBe('p.csv:3: age "x" is not an integer');
    expect(one.file).toBe('p.csv');
    const many = new InputFileError(
      [
        { file: 'p.csv', line: 3, problem: 'a' },
        { file: 'n.csv', line: null, problem: 'file is missing' },
      ],
      2,
    );
    expect(many.problems).toEqual(['p.csv:3: a', 'n.csv: file is missing', '... and 2 more problems']);
    expect(many.message).toBe('3 problems in input files:\n  p.csv:3: a\n  n.csv: file is missing\n  ... and 2 more problems');
    expect(many).toMatchObject({ code: 'input_file', file: null, more: 2 });
    expect(many.rows[1]).toEqual({ file: 'n.csv', line: null, problem: 'file is missing' });
  });

  it('says where a hash chain breaks, as data and in the line users see', () => {
    const e = new IntegrityError({ file: 'out/sim.db', stream: 'run/1/control', streamPosition: 7, position: 812, reason: 'hash does not match its contents and predecessor' });
    expect(e.message).toBe('out/sim.db: stream run/1/control is broken at stream position 7 (event 812): hash does not match its contents and predecessor');
    expect(e.toJSON()).toMatchObject({ code: 'integrity', file: 'out/sim.db', broken: { stream: 'run/1/control', streamPosition: 7, position: 812 } });
    expect(new IntegrityError('legacy text').broken).toBeNull();
  });

  it('serializes the code, message and fields for a program', () => {
    const e = new StreamConflictError('run/1/warmup', 10, 12);
    expect(e.toJSON()).toEqual({ code: 'stream_conflict', message: e.message, flag: null, file: null, streamId: 'run/1/warmup', stream: 'run/1/warmup', expected: 10, actual: 12 });
    expect(JSON.parse(JSON.stringify(new InterruptedError(5, 'run/2/control', 'sim resume 2')))).toMatchObject({ code: 'interrupted', round: 5, stream: 'run/2/control', resume: 'sim resume 2' });
    expect(new SimError('x').code).toBe('error');
  });
});
