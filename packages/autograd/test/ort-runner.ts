import type { CompileRunner, HostTensor } from '@enjambre/autograd';
import { type Model, serializeModel } from '@enjambre/onnx';
import * as ort from 'onnxruntime-node';

/** Creates an onnxruntime-node CPU session for `model` and wraps it as a ModelRunner. */
async function open(model: Model) {
  const session = await ort.InferenceSession.create(serializeModel(model), {
    graphOptimizationLevel: 'disabled',
    intraOpNumThreads: 1,
  });
  return {
    async run(feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
      const inputs: Record<string, ort.Tensor> = {};
      for (const [k, v] of Object.entries(feeds)) {
        inputs[k] = new ort.Tensor(v.dtype === 'bool' ? 'bool' : v.dtype, v.data as never, v.dims);
      }
      const out = await session.run(inputs);
      const result: Record<string, HostTensor> = {};
      for (const [k, v] of Object.entries(out)) {
        result[k] = {
          dtype: v.type as HostTensor['dtype'],
          dims: [...v.dims],
          data: v.data as HostTensor['data'],
        };
      }
      return result;
    },
  };
}

/** Runs models on onnxruntime-node's CPU provider: the oracle the autodiff tests compare against. */
export const ortRunner: CompileRunner = open;

/**
 * Like `ortRunner`, but first rewrites the default-domain opset import to `opset` (and raises the
 * IR version it needs): for ops that only exist in later opsets, such as Gelu (opset 20).
 */
export function ortRunnerAt(opset: number): CompileRunner {
  return (model) =>
    open({
      ...model,
      irVersion: Math.max(model.irVersion, opset >= 19 ? 9 : model.irVersion),
      opsetImports: model.opsetImports.map((o) => (o.domain === '' ? { domain: '', version: opset } : o)),
    });
}
