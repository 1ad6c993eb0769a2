import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createSwarmNode,
  DialError,
  generateSwarmKey,
  KeyFileError,
  loadOrCreateIdentity,
  readSwarmKeyFile,
  writeSwarmKeyFile,
} from '../src/index.ts';
import { randomHash, randomRunId, startNode, stopNodesAfterEach, waitFor } from './helpers.ts';

stopNodesAfterEach();

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'enjambre-swarm-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('libp2p node', () => {
  it('keeps the same peer id across restarts through a 0600 identity file', async () => {
    const file = join(dir, 'keys', 'identity.key');
    const runId = randomRunId();
    const compatHash = randomHash();
    const first = await startNode({ runId, compatHash, identityFile: file });
    const id = first.peerId;
    await first.stop();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const second = await startNode({ runId, compatHash, identityFile: file });
    expect(second.peerId).toBe(id);
    expect(await loadOrCreateIdentity(file)).toEqual({ peerId: id, created: false });
    const other = await loadOrCreateIdentity(join(dir, 'other.key'));
    expect(other.created).toBe(true);
    expect(other.peerId).not.toBe(id);
    await writeFile(join(dir, 'bad.key'), 'not a key');
    await expect(loadOrCreateIdentity(join(dir, 'bad.key'))).rejects.toThrow(KeyFileError);
  });

  it('private swarm: key A connects to key A and not to key B', async () => {
    const runId = randomRunId();
    const compatHash = randomHash();
    const keyA = await writeSwarmKeyFile(join(dir, 'a.key'));
    expect(await readSwarmKeyFile(join(dir, 'a.key'))).toEqual(keyA);
    expect((await stat(join(dir, 'a.key'))).mode & 0o777).toBe(0o600);
    const keyB = generateSwarmKey();
    const a1 = await startNode({ runId, compatHash, swarmKey: keyA });
    const a2 = await startNode({ runId, compatHash, swarmKey: keyA });
    const b = await startNode({ runId, compatHash, swarmKey: keyB });
    const open = await startNode({ runId, compatHash });
    expect(await a2.dial(a1.multiaddrs()[0])).toBe(a1.peerId);
    await expect(b.dial(a1.multiaddrs()[0], { signal: AbortSignal.timeout(1000) })).rejects.toThrow(
      DialError,
    );
    await expect(open.dial(a1.multiaddrs()[0], { signal: AbortSignal.timeout(1000) })).rejects.toThrow(
      DialError,
    );
    expect(a1.connectedPeers()).toEqual([a2.peerId]);
    await writeFile(join(dir, 'bad-swarm.key'), 'hello');
    await expect(readSwarmKeyFile(join(dir, 'bad-swarm.key'))).rejects.toThrow(/64 hex characters/);
    expect(new TextDecoder().decode(await readFile(join(dir, 'a.key')))).toMatch(
      /^\/key\/swarm\/psk\/1\.0\.0\//,
    );
  });

  it('mDNS discovers and dials LAN peers with the same service tag', async () => {
    const runId = randomRunId();
    const compatHash = randomHash();
    const mdns = { intervalMs: 200, serviceTag: `${runId}.local` };
    const a = await startNode({ runId, compatHash, mdns });
    const b = await startNode({ runId, compatHash, mdns });
    await waitFor(() => a.connectedPeers().includes(b.peerId), 8000, 'mDNS connection');
  });

  it('validates options, supports start/stop and an abort signal', async () => {
    await expect(createSwarmNode({ runId: 'bad id', compatHash: randomHash() })).rejects.toThrow(/runId/);
    await expect(createSwarmNode({ runId: 'ok', compatHash: 'zz' })).rejects.toThrow(/compatHash/);
    await expect(
      createSwarmNode({ runId: 'ok', compatHash: 'ab', bootstrap: ['/ip4/127.0.0.1/tcp/1'] }),
    ).rejects.toThrow(/p2p/);
    const ac = new AbortController();
    const n = await createSwarmNode({
      runId: randomRunId(),
      compatHash: randomHash(),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      signal: ac.signal,
    });
    expect(n.isStarted()).toBe(true);
    expect(n.multiaddrs()[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//);
    ac.abort();
    await waitFor(() => !n.isStarted(), 5000, 'stop on abort');
    await n.stop();
    await expect(n.publishLeave(1)).rejects.toThrow(/not running/);
    const announced = await startNode({
      runId: randomRunId(),
      compatHash: randomHash(),
      announce: ['/ip4/203.0.113.7/tcp/4001'],
    });
    expect(announced.multiaddrs()[0]).toContain('/ip4/203.0.113.7/tcp/4001/p2p/');
  });
});
