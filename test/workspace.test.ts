/**
 * The workspace's dependency graph: packages depend on each other in one direction only, and each
 * package's tsconfig references exactly the workspace packages it depends on, so that `tsc -b`
 * builds a package after everything it imports (a missing reference builds against a stale dist/).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const dirs = readdirSync(path.join(ROOT, 'packages'));
const manifest = (dir: string) =>
  JSON.parse(readFileSync(path.join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as {
    name: string;
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
const dirOf = new Map(dirs.map((d) => [manifest(d).name, d]));
const workspaceDeps = (dir: string): string[] => {
  const m = manifest(dir);
  return Object.keys({ ...m.dependencies, ...m.devDependencies })
    .filter((n) => dirOf.has(n))
    .map((n) => dirOf.get(n) as string)
    .sort();
};

describe('the workspace', () => {
  it.each(dirs)('%s: tsconfig references equal its workspace dependencies', (dir) => {
    const tsconfig = JSON.parse(readFileSync(path.join(ROOT, 'packages', dir, 'tsconfig.json'), 'utf8')) as {
      references?: { path: string }[];
    };
    const refs = (tsconfig.references ?? []).map((r) => path.basename(r.path)).sort();
    expect(refs).toEqual(workspaceDeps(dir));
  });

  it('has no dependency cycle between packages', () => {
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (dir: string, trail: string[]) => {
      if (state.get(dir) === 'done') return;
      if (state.get(dir) === 'visiting') {
        cycles.push([...trail.slice(trail.indexOf(dir)), dir].join(' -> '));
        return;
      }
      state.set(dir, 'visiting');
      for (const dep of workspaceDeps(dir)) visit(dep, [...trail, dir]);
      state.set(dir, 'done');
    };
    for (const d of dirs) visit(d, []);
    expect(cycles).toEqual([]);
  });
});
