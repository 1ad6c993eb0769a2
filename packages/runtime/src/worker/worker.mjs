// Entry point of the onnxruntime thread: the project runs from TypeScript sources, so the thread
// registers tsx before loading worker.ts (worker threads do not inherit the parent's loader).
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
