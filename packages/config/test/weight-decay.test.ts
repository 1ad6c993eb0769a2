import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  configFromObject,
  DEFAULT_WEIGHT_DECAY_PARAMS,
  isValidParamPattern,
  matchesParamPattern,
} from '../src/index.ts';

const base = { model: { kind: 'mlp' }, data: { format: 'synthetic' } };
const withDecay = (weightDecayParams: unknown) =>
  configFromObject(
    { ...base, training: { optimizer: { kind: 'adamw', weightDecayParams } } },
    { checkPaths: false },
  );

describe('training.optimizer.weightDecayParams', () => {
  it('defaults to the one default in defaults.ts', () => {
    const config = configFromObject(base, { checkPaths: false });
    expect(config.training.optimizer.weightDecayParams).toBe(DEFAULT_WEIGHT_DECAY_PARAMS);
  });

  it.each(['all', 'matrices', 'none'])('accepts %s', (set) => {
    expect(withDecay(set).training.optimizer.weightDecayParams).toBe(set);
  });

  it('accepts globs and /regexes/', () => {
    expect(withDecay(['*.weight', '/^h\\.\\d+\\.attn/']).training.optimizer.weightDecayParams).toEqual([
      '*.weight',
      '/^h\\.\\d+\\.attn/',
    ]);
  });

  it.each([
    ['everything', /weightDecayParams/],
    [['/(unclosed/'], /weightDecayParams\[0\]: a \/regex\/ pattern must be a valid regular expression/],
    [[], /weightDecayParams/],
  ])('rejects %j with an error naming the field', (value, message) => {
    expect(() => withDecay(value)).toThrow(ConfigError);
    expect(() => withDecay(value)).toThrow(message);
  });
});

describe('parameter patterns: globs match the whole name, /regexes/ anywhere in it', () => {
  it.each([
    ['h.0.attn.q.weight', '*.weight', true],
    ['h.0.attn.q.weight', 'attn', false],
    ['h.0.attn.q.weight', '/attn/', true],
    ['h.0.attn.q.weight', '/^attn/', false],
    ['h.12.mlp.fc.bias', '/^h\\.1\\d\\./', true],
    ['/', '/', true],
  ])('%s ~ %s → %s', (name, pattern, expected) => {
    expect(matchesParamPattern(name, pattern)).toBe(expected);
  });

  it('validates', () => {
    expect(isValidParamPattern('/[a-/')).toBe(false);
    expect(isValidParamPattern('')).toBe(false);
    expect(isValidParamPattern('/ok+/')).toBe(true);
  });
});
