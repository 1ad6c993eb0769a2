// Entry point of the onnxruntime thread when the package runs from its TypeScript sources (tests,
// scripts under tsx): a worker thread does not inherit its parent's module hooks, so it registers
// tsx before loading worker.ts. The built package starts dist/worker/worker.js instead.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
