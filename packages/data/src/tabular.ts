import { checkIndices } from './common.ts';
import { InvalidSpecError } from './errors.ts';
import type { Batch, Dataset, TensorSpec } from './types.ts';

/** Labels of a {@link TabularDataset}: class indices or regression targets (one per example). */
export type TabularLabels =
  | { readonly kind: 'class'; readonly values: Int32Array }
  | { readonly kind: 'regression'; readonly values: Float32Array };

/**
 * In-memory dataset of float32 feature vectors (row-major `[size, width]`) with one label each:
 * class indices → int64 labels of shape `[]`; regression targets → float32 labels of shape `[1]`.
 */
export class TabularDataset implements Dataset {
  readonly size: number;
  readonly inputs: TensorSpec;
  readonly labels: TensorSpec;

  constructor(
    /** Row-major features, `size * width` values. */
    readonly features: Float32Array,
    readonly width: number,
    readonly targets: TabularLabels,
  ) {
    const size = targets.values.length;
    if (features.length !== size * width) {
      throw new InvalidSpecError('features', features.length, `${size} × ${width} = ${size * width} values`);
    }
    this.size = size;
    this.inputs = { dtype: 'float32', shape: [width] };
    this.labels = targets.kind === 'class' ? { dtype: 'int64', shape: [] } : { dtype: 'float32', shape: [1] };
  }

  batch(indices: ArrayLike<number>): Batch {
    checkIndices(indices, this.size);
    const n = indices.length;
    const w = this.width;
    const x = new Float32Array(n * w);
    for (let b = 0; b < n; b++) x.set(this.features.subarray(indices[b] * w, indices[b] * w + w), b * w);
    if (this.targets.kind === 'class') {
      const y = new BigInt64Array(n);
      for (let b = 0; b < n; b++) y[b] = BigInt(this.targets.values[indices[b]]);
      return {
        inputs: { dtype: 'float32', data: x, dims: [n, w] },
        labels: { dtype: 'int64', data: y, dims: [n] },
      };
    }
    const y = new Float32Array(n);
    for (let b = 0; b < n; b++) y[b] = this.targets.values[indices[b]];
    return {
      inputs: { dtype: 'float32', data: x, dims: [n, w] },
      labels: { dtype: 'float32', data: y, dims: [n, 1] },
    };
  }
}
