import type { CompileRunner, HostTensor } from '@enjambre/autograd';
import { serializeModel } from '@enjambre/onnx';
import * as ort from 'onnxruntime-node';

/** Runs models on onnxruntime-node's CPU provider: the oracle the autodiff tests compare against. */
export const ortRunner: CompileRunner = async (model) => {
  const session = await ort.InferenceSession.create(serializeModel(model), {
    graphOptimizationLevel: 'disabled',
    intraOpNumThreads: 1,
  });
  return {
    async run(feeds) {
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
};
