import { describe, expect, it } from 'vitest';
import { DatabaseError, FallbackBudgetError, InterruptedError, StreamConflictError, UsageError } from '../errors.js';
import { classifyFailure } from './job-slice.js';

describe('classifyFailure: how an error ends a job, the same on the main thread and in a job thread', () => {
  it('an interruption that was asked for (slice over, stop) continues the job; one not asked for is a transient failure', () => {
    expect(classifyFailure(new InterruptedError(7, 'run/1/control'), true)).toEqual({ kind: 'interrupted', round: 7 });
    expect(classifyFailure(new InterruptedError(7, 'run/1/control'), false)).toMatchObject({ kind: 'failed', permanent: false });
  });

  it('an append refused drops the job; permanent causes fail it at once; anything else is retried', () => {
    expect(classifyFailure(new StreamConflictError('run/1/control', 3, 5), false)).toEqual({ kind: 'conflict', message: 'stream run/1/control: expected to append after position 3, but it is at 5 (another process wrote to it)' });
    expect(classifyFailure(new UsageError('run 1 has no condition stream "x"'), false)).toEqual({ kind: 'failed', permanent: true, message: 'run 1 has no condition stream "x"' });
    expect(classifyFailure(new FallbackBudgetError('too many fallbacks', { stream: 'run/1/control', decisions: 100, fellBack: 5, maxRate: 0.02 }), false)).toMatchObject({ kind: 'failed', permanent: true });
    expect(classifyFailure(new DatabaseError('cannot connect'), false)).toMatchObject({ kind: 'failed', permanent: false });
    expect(classifyFailure(new Error('connection reset'), false)).toEqual({ kind: 'failed', permanent: false, message: 'connection reset' });
    expect(classifyFailure('a string thrown', false)).toEqual({ kind: 'failed', permanent: false, message: 'a string thrown' });
  });
});
