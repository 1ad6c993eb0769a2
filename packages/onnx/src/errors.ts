/** The bytes are not a readable ONNX model. */
export class OnnxParseError extends Error {
  override name = 'OnnxParseError';
  readonly code = 'ERR_ONNX_PARSE';
}

/** Shape inference met an op or a combination of shapes it cannot handle. */
export class ShapeInferenceError extends Error {
  override name = 'ShapeInferenceError';
  readonly code = 'ERR_SHAPE_INFERENCE';
  constructor(
    message: string,
    readonly node?: string,
  ) {
    super(message);
  }
}

/** A graph under construction was used wrongly (unknown value, duplicate name). */
export class GraphBuildError extends Error {
  override name = 'GraphBuildError';
  readonly code = 'ERR_GRAPH_BUILD';
}
