/**
 * Parameter-name patterns, as used by `model.trainable`, `model.frozen` and `swarm.averaging.localParams`:
 * `*` matches any run of characters (dots and slashes included), `?` exactly one; everything else is
 * literal. Matching takes O(name × pattern) time at worst, whatever the pattern (no regex backtracking).
 */
export function matchesNamePattern(name: string, pattern: string): boolean {
  const n = [...name];
  const p = [...pattern];
  let i = 0;
  let j = 0;
  let starJ = -1;
  let starI = 0;
  while (i < n.length) {
    if (j < p.length && p[j] !== '*' && (p[j] === '?' || p[j] === n[i])) {
      i++;
      j++;
    } else if (j < p.length && p[j] === '*') {
      starJ = j++;
      starI = i;
    } else if (starJ >= 0) {
      j = starJ + 1;
      i = ++starI;
    } else {
      return false;
    }
  }
  while (j < p.length && p[j] === '*') j++;
  return j === p.length;
}

/** A predicate that is true for names matching any of the patterns (false for an empty list). */
export function compileNamePatterns(patterns: readonly string[]): (name: string) => boolean {
  const list = [...patterns];
  return (name) => list.some((pattern) => matchesNamePattern(name, pattern));
}

/**
 * Parameter patterns that may also be regular expressions (`training.optimizer.weightDecayParams`):
 * a pattern written between slashes, `/source/`, is a regular expression searched anywhere in the
 * name; any other pattern is a glob as in {@link matchesNamePattern} (the whole name).
 */
export function matchesParamPattern(name: string, pattern: string): boolean {
  const source = regexSource(pattern);
  return source === undefined ? matchesNamePattern(name, pattern) : new RegExp(source).test(name);
}

/** Whether a {@link matchesParamPattern} pattern is usable: a glob, or a `/regex/` that compiles. */
export function isValidParamPattern(pattern: string): boolean {
  const source = regexSource(pattern);
  if (source === undefined) return pattern.length > 0;
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

function regexSource(pattern: string): string | undefined {
  return pattern.length >= 2 && pattern.startsWith('/') && pattern.endsWith('/')
    ? pattern.slice(1, -1)
    : undefined;
}
