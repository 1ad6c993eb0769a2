/**
 * Parameter-name patterns for `trainable` / `frozen`: `*` matches any run of characters (dots
 * and slashes included), `?` exactly one character; everything else is literal. The same
 * semantics as the config package's `model.trainable` patterns.
 */
export function patternToRegExp(pattern: string): RegExp {
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') {
      if (!source.endsWith('.*')) source += '.*';
    } else if (ch === '?') source += '.';
    else source += ch.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

/** Whether `name` matches `pattern` (see {@link patternToRegExp}). */
export function matchesPattern(name: string, pattern: string): boolean {
  return patternToRegExp(pattern).test(name);
}
