import { AbortError, EnjambreError } from '@enjambre/core';
import { SwarmError } from '@enjambre/swarm';
import { afterEach, describe, expect, it } from 'vitest';
import { formatError, UsageError } from '../src/output.ts';

describe('formatError', () => {
  const debug = process.env.ENJAMBRE_DEBUG;
  afterEach(() => {
    if (debug === undefined) delete process.env.ENJAMBRE_DEBUG;
    else process.env.ENJAMBRE_DEBUG = debug;
  });

  it("prints an Enjambre error's message and hint, without a stack", () => {
    delete process.env.ENJAMBRE_DEBUG;
    const e = new EnjambreError('dataset mnist is not cached', { hint: 'run enjambre data get mnist' });
    expect(formatError(e)).toBe('enjambre: dataset mnist is not cached (run enjambre data get mnist)');
    expect(formatError(new AbortError('join'))).toBe('enjambre: join was aborted');
    expect(formatError(new SwarmError('no peers'))).toBe('enjambre: no peers');
    expect(new UsageError('x')).toBeInstanceOf(EnjambreError);
  });

  it('keeps the stack of anything else (a bug), and of every error under ENJAMBRE_DEBUG', () => {
    delete process.env.ENJAMBRE_DEBUG;
    const bug = new TypeError(`x is undefined ${Math.random()}`);
    expect(formatError(bug)).toBe(`enjambre: ${bug.stack}`);
    process.env.ENJAMBRE_DEBUG = '1';
    const known = new EnjambreError('known');
    expect(formatError(known)).toBe(`enjambre: ${known.stack}`);
  });
});
