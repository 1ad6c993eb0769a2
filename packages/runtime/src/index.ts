export * from './checkpoint.ts';
export * from './errors.ts';
export * from './export.ts';
export * from './providers.ts';
export * from './session.ts';
export * from './trainer.ts';
export { compileWorkerRunner, createWorkerRunner } from './worker-runner.ts';
