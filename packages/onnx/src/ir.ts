/**
 * The in-memory form of an ONNX model: plain data, no behaviour. Builders, the serialiser,
 * the parser, shape inference and autodiff all read and write this one shape.
 */

export type DataType = 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

/** A dimension: a fixed size, or a symbolic name such as `'batch'`. */
export type Dim = number | string;

export interface TensorType {
  dtype: DataType;
  /** `undefined` when the rank is unknown. */
  shape?: Dim[];
}

export interface ValueInfo {
  name: string;
  type: TensorType;
}

export type TensorData =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | Int32Array
  | Int8Array
  | Uint8Array
  | Uint16Array;

/** A constant tensor (an initializer or a Constant's value). float16 data is held as raw Uint16Array bits. */
export interface Tensor {
  name: string;
  dtype: DataType;
  dims: number[];
  data: TensorData;
}

export type Attribute =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: Tensor }
  | { type: 'graph'; value: Graph }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] };

export interface Node {
  op: string;
  /** Empty for the default ONNX domain. */
  domain: string;
  name: string;
  /** An empty string marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attribute>;
}

export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Tensor[];
  /** Types of intermediate values, where known. */
  valueInfo: ValueInfo[];
}

export interface OpsetImport {
  domain: string;
  version: number;
}

export interface Model {
  irVersion: number;
  opsetImports: OpsetImport[];
  producerName: string;
  producerVersion: string;
  graph: Graph;
  metadata: Record<string, string>;
}

/** The opset Enjambre writes. 17 has LayerNormalization; 18 moved ReduceX axes to inputs. */
export const DEFAULT_OPSET = 18;
/** IR version 8 is what opset 18 requires; onnxruntime 1.30 reads up to 11. */
export const DEFAULT_IR_VERSION = 8;

export const FLOAT_TYPES: ReadonlySet<DataType> = new Set(['float32', 'float64', 'float16']);

export function isFloat(dtype: DataType): boolean {
  return FLOAT_TYPES.has(dtype);
}

export function bytesPerElement(dtype: DataType): number {
  switch (dtype) {
    case 'float64':
    case 'int64':
      return 8;
    case 'float32':
    case 'int32':
      return 4;
    case 'float16':
      return 2;
    case 'int8':
    case 'uint8':
    case 'bool':
      return 1;
  }
}

export function numElements(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** A zero-filled typed array of the right class for `dtype`. */
export function allocate(dtype: DataType, length: number): TensorData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(length);
    case 'float64':
      return new Float64Array(length);
    case 'float16':
      return new Uint16Array(length);
    case 'int64':
      return new BigInt64Array(length);
    case 'int32':
      return new Int32Array(length);
    case 'int8':
      return new Int8Array(length);
    case 'uint8':
    case 'bool':
      return new Uint8Array(length);
  }
}

export function emptyGraph(name = 'graph'): Graph {
  return { name, nodes: [], inputs: [], outputs: [], initializers: [], valueInfo: [] };
}

export function cloneGraph(g: Graph): Graph {
  return {
    name: g.name,
    nodes: g.nodes.map((n) => ({
      ...n,
      inputs: [...n.inputs],
      outputs: [...n.outputs],
      attrs: { ...n.attrs },
    })),
    inputs: g.inputs.map((v) => ({ name: v.name, type: cloneType(v.type) })),
    outputs: g.outputs.map((v) => ({ name: v.name, type: cloneType(v.type) })),
    initializers: [...g.initializers],
    valueInfo: g.valueInfo.map((v) => ({ name: v.name, type: cloneType(v.type) })),
  };
}

function cloneType(t: TensorType): TensorType {
  return t.shape ? { dtype: t.dtype, shape: [...t.shape] } : { dtype: t.dtype };
}
