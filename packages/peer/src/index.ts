export * from './errors.ts';
export * from './gradcheck.ts';
export * from './local.ts';
export { learningRateSchedule } from './schedule.ts';
export * from './setup.ts';
export * from './swarm.ts';
export * from './doctor.ts';
export * from './export.ts';
export * from './probe.ts';
