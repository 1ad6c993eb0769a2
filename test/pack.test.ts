/**
 * The product as users get it: every workspace package is built, packed with `npm pack`, and the
 * tarballs are installed into an empty project outside the repository, where a program written
 * against the public API is type-checked against the published `.d.ts`, run (it trains a model in
 * the onnxruntime thread), and `npx enjambre --version` answers. npm reads the packages' own
 * dependencies through its cache (`--prefer-offline`); nothing beside the tarballs comes from here.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const PACKAGES = readdirSync(path.join(ROOT, 'packages'));
const work = mkdtempSync(path.join(tmpdir(), 'enjambre-pack-'));
// Not the settings of an npm that runs this test (`npm test` sets npm_config_local_prefix and more).
const env = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))),
  ONNXRUNTIME_NODE_INSTALL: 'skip',
  npm_config_update_notifier: 'false',
};

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

interface PackResult {
  name: string;
  filename: string;
  files: { path: string }[];
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed packages', () => {
  it('install into an empty project and run a program against the public API', { timeout: 900_000 }, () => {
    run('npm', ['run', 'build', '--silent'], ROOT);
    const tarballs = path.join(work, 'tarballs');
    mkdirSync(tarballs);
    const packed = JSON.parse(
      run('npm', ['pack', '--workspaces', '--json', '--pack-destination', tarballs], ROOT),
    ) as PackResult[];
    expect(packed.map((p) => p.name).sort()).toEqual(
      PACKAGES.map((p) => (p === 'cli' ? 'enjambre' : `@enjambre/${p}`)).sort(),
    );
    for (const p of packed) {
      const files = p.files.map((f) => f.path);
      // Compiled JavaScript with its declarations; no sources, tests or build state.
      expect(
        files.filter((f) => /^(src|test)\/|\.tsbuildinfo$/.test(f)),
        p.name,
      ).toEqual([]);
      if (p.name === 'enjambre')
        expect(files).toEqual(expect.arrayContaining(['bin/enjambre.js', 'dist/main.js']));
      else expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts']));
    }
    const byName = new Map(packed.map((p) => [p.name, p.files.map((f) => f.path)]));
    expect(byName.get('@enjambre/onnx')).toContain('dist/gen/onnx_pb.js');
    expect(byName.get('@enjambre/config')).toContain('schema/enjambre.schema.json');
    expect(byName.get('@enjambre/runtime')).toContain('dist/worker/worker.js');

    const project = path.join(work, 'project');
    mkdirSync(project);
    writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({
        name: 'consumer',
        private: true,
        type: 'module',
        allowScripts: { 'onnxruntime-node': false },
      }),
    );
    run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        ...packed.map((p) => path.join(tarballs, p.filename)),
      ],
      project,
    );

    // Every package of ours comes from its tarball, never from the registry.
    const lock = JSON.parse(readFileSync(path.join(project, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { resolved?: string }>;
    };
    for (const p of packed) {
      expect(lock.packages[`node_modules/${p.name}`]?.resolved, p.name).toBe(
        `file:../tarballs/${p.filename}`,
      );
    }

    // Type-checked against the installed declarations (the repository's compiler, the user's view).
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          lib: ['ES2023', 'ES2024.Promise', 'DOM'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          types: ['node'],
          typeRoots: [path.join(ROOT, 'node_modules/@types')],
          outDir: 'out',
        },
        files: [path.join(ROOT, 'test/fixtures/consumer.ts')],
      }),
    );
    run(
      process.execPath,
      [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
      project,
    );
    const result = JSON.parse(run(process.execPath, ['out/consumer.js'], project)) as {
      steps: number;
      before: number;
      after: number;
    };
    expect(result.steps).toBe(80);
    expect(result.after).toBeLessThan(0.7 * result.before);

    expect(run('npx', ['--no-install', 'enjambre', '--version'], project).trim()).toBe('0.1.0');
    expect(run('npx', ['--no-install', 'enjambre', 'ops', '--json'], project)).toContain('"MatMul"');
  });
});
