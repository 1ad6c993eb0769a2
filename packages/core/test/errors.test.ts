import { describe, expect, it } from 'vitest';
import { AbortError, EnjambreError, InvalidOptionError, isEnjambreError, toError } from '../src/index.ts';

describe('EnjambreError', () => {
  it('carries a code, an optional hint and the cause', () => {
    const cause = new Error('disk full');
    const e = new EnjambreError('cannot write the checkpoint', { cause, hint: 'free some space' });
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('ERR_ENJAMBRE');
    expect(e.hint).toBe('free some space');
    expect(e.cause).toBe(cause);
    expect(e.message).toBe('cannot write the checkpoint');
    const plain = new EnjambreError('x');
    expect(plain.hint).toBeUndefined();
    expect('cause' in plain).toBe(false);
  });

  it('subclasses keep their own name and code and stay EnjambreErrors', () => {
    class DiskError extends EnjambreError {
      override name = 'DiskError';
      override readonly code = 'ERR_DISK';
    }
    const e = new DiskError('no space', { hint: 'h' });
    expect(e).toBeInstanceOf(EnjambreError);
    expect(isEnjambreError(e)).toBe(true);
    expect([e.name, e.code, e.hint]).toEqual(['DiskError', 'ERR_DISK', 'h']);
    expect(isEnjambreError(new Error('x'))).toBe(false);
  });

  it('AbortError and InvalidOptionError name what happened', () => {
    const reason = new Error('user pressed ctrl-c');
    const a = new AbortError('fetchSnapshot', { cause: reason });
    expect([a.name, a.code, a.message, a.cause]).toEqual([
      'AbortError',
      'ABORT_ERR',
      'fetchSnapshot was aborted',
      reason,
    ]);
    const o = new InvalidOptionError('maxClients', 'expected an integer ≥ 1, got 0');
    expect([o.code, o.option, o.message]).toEqual([
      'ERR_INVALID_OPTION',
      'maxClients',
      'option maxClients: expected an integer ≥ 1, got 0',
    ]);
    expect(o).toBeInstanceOf(EnjambreError);
  });

  it('toError keeps Errors and wraps anything else', () => {
    const e = new Error('x');
    expect(toError(e)).toBe(e);
    expect(toError('boom').message).toBe('boom');
  });
});
