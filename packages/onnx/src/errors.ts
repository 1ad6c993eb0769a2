import { EnjambreError } from '@enjambre/core';

/** The bytes are not a readable ONNX model. */
export class OnnxParseError extends EnjambreError {
  override name = 'OnnxParseError';
  override readonly code = 'ERR_ONNX_PARSE';
}

/** An error about one node of a graph: `node` names it when known. */
export class GraphNodeError extends EnjambreError {
  override name = 'GraphNodeError';
  override readonly code: string = 'ERR_GRAPH_NODE';
  constructor(
    message: string,
    readonly node?: string,
  ) {
    super(message);
  }
}

/** Shape inference met an op or a combination of shapes it cannot handle. */
export class ShapeInferenceError extends GraphNodeError {
  override name = 'ShapeInferenceError';
  override readonly code = 'ERR_SHAPE_INFERENCE';
}

/** A graph under construction was used wrongly (unknown value, duplicate name). */
export class GraphBuildError extends EnjambreError {
  override name = 'GraphBuildError';
  override readonly code = 'ERR_GRAPH_BUILD';
}

/** An opset conversion that `upgradeOpset` cannot do (the version range, or an op's form). */
export class OpsetUpgradeError extends GraphNodeError {
  override name = 'OpsetUpgradeError';
  override readonly code = 'ERR_OPSET_UPGRADE';
}
