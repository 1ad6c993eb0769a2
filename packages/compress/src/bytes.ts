/** Little-endian typed-array views and copies over byte buffers, safe for unaligned offsets. */

export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A Uint16Array with `count` little-endian values at `offset` of `bytes` (a view when aligned). */
export function readU16(bytes: Uint8Array, offset: number, count: number): Uint16Array {
  const abs = bytes.byteOffset + offset;
  if (LITTLE_ENDIAN && abs % 2 === 0) return new Uint16Array(bytes.buffer, abs, count);
  const out = new Uint16Array(count);
  const dv = new DataView(bytes.buffer, abs, count * 2);
  for (let i = 0; i < count; i++) out[i] = dv.getUint16(i * 2, true);
  return out;
}

/** A Float32Array with `count` little-endian values at `offset` of `bytes` (a view when aligned). */
export function readF32(bytes: Uint8Array, offset: number, count: number): Float32Array {
  const abs = bytes.byteOffset + offset;
  if (LITTLE_ENDIAN && abs % 4 === 0) return new Float32Array(bytes.buffer, abs, count);
  const out = new Float32Array(count);
  const dv = new DataView(bytes.buffer, abs, count * 4);
  for (let i = 0; i < count; i++) out[i] = dv.getFloat32(i * 4, true);
  return out;
}

/** Writes `values` as little-endian u16 at `offset`. */
export function writeU16(bytes: Uint8Array, offset: number, values: Uint16Array): void {
  if (LITTLE_ENDIAN) {
    bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset);
    return;
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset + offset, values.length * 2);
  for (let i = 0; i < values.length; i++) dv.setUint16(i * 2, values[i], true);
}

/** Writes `values` as little-endian f32 at `offset`. */
export function writeF32(bytes: Uint8Array, offset: number, values: Float32Array): void {
  if (LITTLE_ENDIAN) {
    bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset);
    return;
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset + offset, values.length * 4);
  for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i], true);
}
