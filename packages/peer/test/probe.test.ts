import { describe, expect, it } from 'vitest';
import { parseNvidiaSmi, tcpAddress, versionAtLeast } from '../src/index.ts';

describe('parseNvidiaSmi', () => {
  it('reads name, driver and memory per line, names with commas included', () => {
    expect(
      parseNvidiaSmi(
        'NVIDIA H200, 580.159.04, 143771 MiB\r\nTesla T4, Rev. B, 535.54.03, [N/A]\n\n  \nbroken line\n',
      ),
    ).toEqual([
      { name: 'NVIDIA H200', driverVersion: '580.159.04', memoryMB: 143771 },
      { name: 'Tesla T4, Rev. B', driverVersion: '535.54.03' },
    ]);
    expect(parseNvidiaSmi('')).toEqual([]);
  });
});

describe('tcpAddress', () => {
  it('reads host and TCP port from IP and DNS multiaddrs', () => {
    expect(
      tcpAddress('/ip4/192.0.2.7/tcp/4001/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'),
    ).toEqual({
      host: '192.0.2.7',
      port: 4001,
      family: 4,
      dns: false,
    });
    expect(tcpAddress('/ip6/::1/tcp/0')).toEqual({ host: '::1', port: 0, family: 6, dns: false });
    expect(tcpAddress('/dns4/peer.example.org/tcp/443/wss')).toEqual({
      host: 'peer.example.org',
      port: 443,
      family: 4,
      dns: true,
    });
    expect(tcpAddress('/dns/peer.example.org/tcp/1')?.family).toBe(0);
  });

  it('returns undefined for non-TCP or malformed addresses', () => {
    expect(tcpAddress('/ip4/1.2.3.4/udp/4001/quic-v1')).toBeUndefined();
    expect(tcpAddress('/ip4/1.2.3.4/tcp/70000')).toBeUndefined();
    expect(tcpAddress('/ip4/1.2.3.4/tcp/')).toBeUndefined();
    expect(tcpAddress('not a multiaddr')).toBeUndefined();
  });
});

describe('versionAtLeast', () => {
  it('compares dotted versions numerically', () => {
    expect(versionAtLeast('20.10.0', '20.10.0')).toBe(true);
    expect(versionAtLeast('v20.9.1', '20.10.0')).toBe(false);
    expect(versionAtLeast('22.1', '20.10.0')).toBe(true);
    expect(versionAtLeast('20.10', '20.10.0')).toBe(true);
  });
});
