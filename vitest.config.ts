import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Workspace packages resolve to their TypeScript sources (the `@enjambre/source` export
  // condition), never to a build in dist/ that may be stale.
  resolve: { conditions: ['@enjambre/source'] },
  ssr: { resolve: { conditions: ['@enjambre/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // libp2p swarms and onnxruntime sessions are real: give them room on 2-core CI machines.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
