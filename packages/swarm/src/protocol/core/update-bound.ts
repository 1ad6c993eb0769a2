/** The largest an honest update of this model can be, per codec: what a fetch or an inline payload may bring. */
import { type CodecName, encodedSize } from '@enjambre/compress';

/** A tensor-list header, and per tensor its name's length field, name, alignment and size field. */
const LIST_HEADER_BYTES = 12;
const PER_TENSOR_OVERHEAD_BYTES = 2 + 3 + 4 + 3;

/** Upper bound of the encoded update bytes of `shared` with `codec` (what {@link ErrorFeedback} produces). */
export function updateSizeBound(
  shared: readonly { name: string; length: number }[],
  codec: CodecName,
  topkFraction?: number,
): number {
  let total = LIST_HEADER_BYTES;
  for (const t of shared) {
    const options = {
      codec,
      ...(codec === 'topk' && topkFraction !== undefined ? { fraction: topkFraction } : {}),
    };
    total +=
      PER_TENSOR_OVERHEAD_BYTES + new TextEncoder().encode(t.name).length + encodedSize(t.length, options);
  }
  return total;
}
