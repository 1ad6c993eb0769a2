import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BlobStore, BlobTooLargeError, InvalidOptionError } from '../src/index.ts';
import { seededBytes } from './helpers.ts';

describe('BlobStore', () => {
  it('addresses blobs by sha256 and evicts the least recently used beyond its bound', () => {
    const store = new BlobStore({ maxBytes: 3000, maxBlobBytes: 1500 });
    const a = seededBytes(1000, 1);
    const b = seededBytes(1000, 2);
    const c = seededBytes(1000, 3);
    const ha = store.put(a);
    expect(ha).toBe(createHash('sha256').update(a).digest('hex'));
    const hb = store.put(b);
    const hc = store.put(c);
    expect(store.bytes).toBe(3000);
    store.get(ha); // a is now most recently used
    const hd = store.put(seededBytes(1000, 4));
    expect(store.has(hb)).toBe(false);
    expect(store.has(ha) && store.has(hc) && store.has(hd)).toBe(true);
    expect(store.bytes).toBe(3000);
    expect(store.put(a)).toBe(ha); // duplicate: no growth
    expect(store.size).toBe(3);
    expect(() => store.put(seededBytes(1501, 5))).toThrow(BlobTooLargeError);
    expect(() => new BlobStore({ maxBytes: 10, maxBlobBytes: 20 })).toThrow(InvalidOptionError);
  });
});
