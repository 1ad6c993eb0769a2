import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { OnnxParseError } from './errors.ts';
import {
  type AttributeProto,
  AttributeProtoSchema,
  AttributeProto_AttributeType as AttrType,
  type GraphProto,
  GraphProtoSchema,
  type ModelProto,
  ModelProtoSchema,
  type NodeProto,
  NodeProtoSchema,
  TensorProto_DataType as PbType,
  type TensorProto,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  type ValueInfoProto,
  ValueInfoProtoSchema,
} from './gen/onnx_pb.ts';
import type {
  Attribute,
  DataType,
  Dim,
  Graph,
  Model,
  Node,
  Tensor,
  TensorData,
  TensorType,
  ValueInfo,
} from './ir.ts';
import { allocate, bytesPerElement, numElements } from './ir.ts';

const TO_PB: Record<DataType, PbType> = {
  float32: PbType.FLOAT,
  float64: PbType.DOUBLE,
  float16: PbType.FLOAT16,
  int64: PbType.INT64,
  int32: PbType.INT32,
  int8: PbType.INT8,
  uint8: PbType.UINT8,
  bool: PbType.BOOL,
};
const FROM_PB = new Map<number, DataType>(Object.entries(TO_PB).map(([k, v]) => [v, k as DataType]));

export function dataTypeToOnnx(dtype: DataType): number {
  return TO_PB[dtype];
}

export function dataTypeFromOnnx(code: number, where: string): DataType {
  const dt = FROM_PB.get(code);
  if (!dt) throw new OnnxParseError(`${where}: unsupported tensor element type ${PbType[code] ?? code}`);
  return dt;
}

/** Serialises a model to the bytes of an ordinary `.onnx` file. */
export function serializeModel(model: Model): Uint8Array {
  const pb = create(ModelProtoSchema, {
    irVersion: BigInt(model.irVersion),
    opsetImport: model.opsetImports.map((o) => ({ domain: o.domain, version: BigInt(o.version) })),
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    graph: graphToProto(model.graph),
    metadataProps: Object.entries(model.metadata).map(([key, value]) => ({ key, value })),
  });
  return toBinary(ModelProtoSchema, pb);
}

/** Parses the bytes of an `.onnx` file (from Enjambre, PyTorch or any other exporter). */
export function parseModel(bytes: Uint8Array): Model {
  let pb: ModelProto;
  try {
    pb = fromBinary(ModelProtoSchema, bytes, { readUnknownFields: false });
  } catch (e) {
    throw new OnnxParseError(`not a valid ONNX protobuf: ${(e as Error).message}`);
  }
  if (!pb.graph) throw new OnnxParseError('the model has no graph');
  const metadata: Record<string, string> = {};
  for (const { key, value } of pb.metadataProps) metadata[key] = value;
  return {
    irVersion: Number(pb.irVersion),
    opsetImports: pb.opsetImport.map((o) => ({ domain: o.domain, version: Number(o.version) })),
    producerName: pb.producerName,
    producerVersion: pb.producerVersion,
    graph: graphFromProto(pb.graph),
    metadata,
  };
}

function graphToProto(g: Graph): GraphProto {
  return create(GraphProtoSchema, {
    name: g.name,
    node: g.nodes.map(nodeToProto),
    input: g.inputs.map(valueInfoToProto),
    output: g.outputs.map(valueInfoToProto),
    initializer: g.initializers.map(tensorToProto),
    valueInfo: g.valueInfo.map(valueInfoToProto),
  });
}

function graphFromProto(g: GraphProto): Graph {
  return {
    name: g.name,
    nodes: g.node.map(nodeFromProto),
    inputs: g.input.map(valueInfoFromProto),
    outputs: g.output.map(valueInfoFromProto),
    initializers: g.initializer.map(tensorFromProto),
    valueInfo: g.valueInfo.filter((v) => v.type?.value.case === 'tensorType').map(valueInfoFromProto),
  };
}

function nodeToProto(n: Node): NodeProto {
  return create(NodeProtoSchema, {
    opType: n.op,
    domain: n.domain,
    name: n.name,
    input: n.inputs,
    output: n.outputs,
    attribute: Object.entries(n.attrs).map(([name, a]) => attributeToProto(name, a)),
  });
}

function nodeFromProto(n: NodeProto, index: number): Node {
  const attrs: Record<string, Attribute> = {};
  for (const a of n.attribute) attrs[a.name] = attributeFromProto(a, `node ${n.name || index} (${n.opType})`);
  return {
    op: n.opType,
    domain: n.domain,
    name: n.name || `${n.opType}_${index}`,
    inputs: n.input,
    outputs: n.output,
    attrs,
  };
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

function attributeToProto(name: string, a: Attribute): AttributeProto {
  const base = { name };
  switch (a.type) {
    case 'float':
      return create(AttributeProtoSchema, { ...base, type: AttrType.FLOAT, f: a.value });
    case 'int':
      return create(AttributeProtoSchema, { ...base, type: AttrType.INT, i: BigInt(a.value) });
    case 'string':
      return create(AttributeProtoSchema, { ...base, type: AttrType.STRING, s: textEncoder.encode(a.value) });
    case 'tensor':
      return create(AttributeProtoSchema, { ...base, type: AttrType.TENSOR, t: tensorToProto(a.value) });
    case 'graph':
      return create(AttributeProtoSchema, { ...base, type: AttrType.GRAPH, g: graphToProto(a.value) });
    case 'floats':
      return create(AttributeProtoSchema, { ...base, type: AttrType.FLOATS, floats: a.value });
    case 'ints':
      return create(AttributeProtoSchema, { ...base, type: AttrType.INTS, ints: a.value.map(BigInt) });
    case 'strings':
      return create(AttributeProtoSchema, {
        ...base,
        type: AttrType.STRINGS,
        strings: a.value.map((s) => textEncoder.encode(s)),
      });
  }
}

function attributeFromProto(a: AttributeProto, where: string): Attribute {
  switch (a.type) {
    case AttrType.FLOAT:
      return { type: 'float', value: a.f };
    case AttrType.INT:
      return { type: 'int', value: Number(a.i) };
    case AttrType.STRING:
      return { type: 'string', value: textDecoder.decode(a.s) };
    case AttrType.TENSOR:
      if (!a.t) throw new OnnxParseError(`${where}: attribute ${a.name} has no tensor`);
      return { type: 'tensor', value: tensorFromProto(a.t) };
    case AttrType.GRAPH:
      if (!a.g) throw new OnnxParseError(`${where}: attribute ${a.name} has no graph`);
      return { type: 'graph', value: graphFromProto(a.g) };
    case AttrType.FLOATS:
      return { type: 'floats', value: [...a.floats] };
    case AttrType.INTS:
      return { type: 'ints', value: a.ints.map(Number) };
    case AttrType.STRINGS:
      return { type: 'strings', value: a.strings.map((s) => textDecoder.decode(s)) };
    default:
      throw new OnnxParseError(
        `${where}: attribute ${a.name} has unsupported type ${AttrType[a.type] ?? a.type}`,
      );
  }
}

function valueInfoToProto(v: ValueInfo): ValueInfoProto {
  return create(ValueInfoProtoSchema, { name: v.name, type: typeToProto(v.type) });
}

function typeToProto(t: TensorType) {
  const tensorType = create(TypeProto_TensorSchema, { elemType: TO_PB[t.dtype] });
  if (t.shape) {
    tensorType.shape = create(TensorShapeProtoSchema, {
      dim: t.shape.map((d) =>
        create(TensorShapeProto_DimensionSchema, {
          value:
            typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : { case: 'dimParam', value: d },
        }),
      ),
    });
  }
  return create(TypeProtoSchema, { value: { case: 'tensorType', value: tensorType } });
}

function valueInfoFromProto(v: ValueInfoProto): ValueInfo {
  const tt = v.type?.value.case === 'tensorType' ? v.type.value.value : undefined;
  if (!tt) throw new OnnxParseError(`value ${v.name}: only tensor types are supported`);
  const type: TensorType = { dtype: dataTypeFromOnnx(tt.elemType, `value ${v.name}`) };
  if (tt.shape) {
    type.shape = tt.shape.dim.map((d, i): Dim => {
      if (d.value.case === 'dimValue') return Number(d.value.value);
      if (d.value.case === 'dimParam' && d.value.value) return d.value.value;
      return `${v.name}_d${i}`;
    });
  }
  return { name: v.name, type };
}

export function tensorToProto(t: Tensor): TensorProto {
  const d = t.data;
  const raw = new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
  return create(TensorProtoSchema, {
    name: t.name,
    dims: t.dims.map(BigInt),
    dataType: TO_PB[t.dtype],
    rawData: raw,
  });
}

export function tensorFromProto(t: TensorProto): Tensor {
  const where = `tensor ${t.name}`;
  const dtype = dataTypeFromOnnx(t.dataType, where);
  const dims = t.dims.map(Number);
  const n = numElements(dims);
  if (t.dataLocation === 1) throw new OnnxParseError(`${where}: external data files are not supported`);
  const out = allocate(dtype, n);
  if (t.rawData.length > 0) {
    if (t.rawData.length !== n * bytesPerElement(dtype)) {
      throw new OnnxParseError(
        `${where}: raw data has ${t.rawData.length} bytes, expected ${n * bytesPerElement(dtype)}`,
      );
    }
    // Copy into an aligned buffer; raw_data is little-endian, like every platform onnxruntime-node runs on.
    new Uint8Array(out.buffer).set(t.rawData);
    return { name: t.name, dtype, dims, data: out };
  }
  const typed = typedFieldValues(t, dtype);
  if (typed.length !== n) throw new OnnxParseError(`${where}: has ${typed.length} values, expected ${n}`);
  fill(out, typed);
  return { name: t.name, dtype, dims, data: out };
}

function typedFieldValues(t: TensorProto, dtype: DataType): ArrayLike<number | bigint> {
  switch (dtype) {
    case 'float32':
      return t.floatData;
    case 'float64':
      return t.doubleData;
    case 'int64':
      return t.int64Data;
    default:
      return t.int32Data;
  }
}

function fill(out: TensorData, values: ArrayLike<number | bigint>): void {
  if (out instanceof BigInt64Array) {
    for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i]);
  } else {
    for (let i = 0; i < values.length; i++) out[i] = Number(values[i]);
  }
}
