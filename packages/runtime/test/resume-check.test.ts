import { describe, expect, it } from 'vitest';
import { type Checkpoint, CheckpointError, checkCheckpointForResume } from '../src/index.ts';

function checkpoint(): Checkpoint {
  const w = Float32Array.from({ length: 12 }, (_, i) => Math.cos(i + 0.5));
  const m = Float32Array.from({ length: 12 }, (_, i) => 0.01 * Math.sin(i + 1.5));
  return {
    tensors: {
      'fc.weight': { dtype: 'float32', dims: [3, 4], data: w },
      'optimizer/fc.weight.m': { dtype: 'float32', dims: [3, 4], data: m },
    },
    metadata: { configHash: 'ab'.repeat(32), step: '120', sampler: '{}' },
  };
}
const expected = {
  configHash: 'ab'.repeat(32),
  requiredMetadata: ['step', 'sampler'],
  tensors: [
    { name: 'fc.weight', dims: [3, 4] },
    { name: 'optimizer/fc.weight.m', dims: [3, 4] },
  ],
};

describe('checkCheckpointForResume', () => {
  it('accepts a checkpoint of this run', () => {
    expect(() => checkCheckpointForResume(checkpoint(), expected, 'ck.safetensors')).not.toThrow();
  });

  it('refuses, naming the tensor or field: NaN in optimizer state, Inf in a parameter, shapes, metadata', () => {
    const cases: [(ck: Checkpoint) => void, RegExp][] = [
      [
        (ck) => ((ck.tensors['optimizer/fc.weight.m'].data as Float32Array)[7] = Number.NaN),
        /'optimizer\/fc\.weight\.m' holds a non-finite value \(NaN\) at index 7/,
      ],
      [
        (ck) => ((ck.tensors['fc.weight'].data as Float32Array)[2] = Number.POSITIVE_INFINITY),
        /'fc\.weight' holds a non-finite value \(Infinity\) at index 2/,
      ],
      [
        (ck) => (ck.tensors['fc.weight'] = { ...ck.tensors['fc.weight'], dims: [4, 3] }),
        /'fc\.weight' has shape \[4, 3\], this model expects \[3, 4\]/,
      ],
      [(ck) => delete ck.tensors['optimizer/fc.weight.m'], /'optimizer\/fc\.weight\.m' is missing/],
      [(ck) => (ck.tensors.extra = ck.tensors['fc.weight']), /'extra' is not part of this model/],
      [(ck) => (ck.metadata.configHash = 'cd'.repeat(32)), /metadata\.configHash .* another run or model/],
      [(ck) => (ck.metadata.step = '-3'), /metadata\.step is "-3"/],
      [(ck) => delete ck.metadata.sampler, /metadata\.sampler is missing/],
    ];
    for (const [spoil, message] of cases) {
      const ck = checkpoint();
      spoil(ck);
      expect(() => checkCheckpointForResume(ck, expected, 'ck.safetensors')).toThrow(CheckpointError);
      expect(() => checkCheckpointForResume(ck, expected, 'ck.safetensors')).toThrow(message);
    }
  });
});
