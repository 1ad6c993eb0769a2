export * from './builder.ts';
export * from './errors.ts';
export * from './ir.ts';
export { MIN_UPGRADE_OPSET, upgradeOpset } from './opset.ts';
export { dataTypeFromOnnx, dataTypeToOnnx, parseModel, serializeModel } from './serialize.ts';
export * from './shapes.ts';
export { topoSort } from './topo.ts';
