import { describe, expect, it } from 'vitest';
import { ConfigError, formatIssue, formatPath } from '../src/index.ts';
import { closest, editDistance, showValue } from '../src/issues.ts';

describe('issue rendering', () => {
  it('formats paths with indices and quoted odd keys', () => {
    expect(formatPath(['swarm', 'bootstrap', 2])).toBe('swarm.bootstrap[2]');
    expect(formatPath(['node', 'a b'])).toBe('node["a b"]');
    expect(formatPath([])).toBe('');
  });

  it('renders one line even for values with newlines', () => {
    const line = formatIssue({
      file: 'f.yaml',
      path: ['a'],
      message: 'bad\nthing',
      got: showValue('x\ny'),
      expected: 'z',
    });
    expect(line).toBe('f.yaml: a: bad thing (got "x\\ny"; expected z)');
    expect(new ConfigError([{ file: 'f', path: [], message: 'm' }]).message).toBe('f: m');
  });

  it('shows values briefly', () => {
    expect(showValue(undefined)).toBe('nothing');
    expect(showValue('x'.repeat(500)).length).toBeLessThan(70);
    expect(showValue([1, 2])).toBe('[1, 2]');
    expect(showValue(Array.from({ length: 100 }, (_, i) => i))).toBe('a list of 100 items');
    expect(showValue({ a: 1, b: 2 })).toBe('a mapping with keys a, b');
    expect(showValue(new Uint8Array(5))).toBe('5 bytes of binary data');
  });

  it('suggests the closest key only when it is close', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(closest('hiden', ['kind', 'hidden', 'activation'])).toBe('hidden');
    expect(closest('BATCHSIZE', ['batchSize', 'optimizer'])).toBe('batchSize');
    expect(closest('zzzzzz', ['batchSize', 'optimizer'])).toBeUndefined();
  });
});
