import { createServer } from 'node:net';
import { freePort } from '@enjambre/peer';
import { describe, expect, it } from 'vitest';

describe('freePort', () => {
  it('finds ports below the ephemeral range that can be listened on', async () => {
    for (let i = 0; i < 10; i++) {
      const port = await freePort();
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThanOrEqual(32_767);
      await new Promise<void>((resolve, reject) => {
        const server = createServer();
        server.on('error', reject);
        server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
      });
    }
  });
});
