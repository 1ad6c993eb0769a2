import { describe, expect, it } from 'vitest';
import { compileNamePatterns, matchesNamePattern } from '../src/index.ts';

describe('name patterns', () => {
  it('matches * across dots and slashes, ? as one character, the rest literally', () => {
    expect(matchesNamePattern('blocks.3.attn.qkv.weight', 'blocks.*.weight')).toBe(true);
    expect(matchesNamePattern('/fc1/MatMul_W', '/fc?/*')).toBe(true);
    expect(matchesNamePattern('fc10.weight', 'fc?.weight')).toBe(false);
    expect(matchesNamePattern('head.bias', 'head.weight')).toBe(false);
    expect(matchesNamePattern('headXweight', 'head.weight')).toBe(false);
    expect(matchesNamePattern('a(b)[c]+d', 'a(b)[c]+d')).toBe(true);
    expect(matchesNamePattern('anything', '***')).toBe(true);
  });

  it('compiles a list into one predicate', () => {
    const isLocal = compileNamePatterns(['head.*', '*.adapter.*']);
    expect(isLocal('head.weight')).toBe(true);
    expect(isLocal('blocks.0.adapter.down')).toBe(true);
    expect(isLocal('blocks.0.mlp.up')).toBe(false);
    expect(compileNamePatterns([])('x')).toBe(false);
  });

  it('stays fast on patterns with many stars', () => {
    const name = 'a'.repeat(2000);
    expect(matchesNamePattern(name, `${'*a'.repeat(30)}b`)).toBe(false);
  });
});
