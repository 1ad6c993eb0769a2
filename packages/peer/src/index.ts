export * from './errors.ts';
export * from './gradcheck.ts';
export * from './local.ts';
export { learningRateSchedule } from './schedule.ts';
export * from './setup.ts';
