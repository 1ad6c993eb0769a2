import { SwarmError } from '../errors.ts';

/** The averaging protocol cannot continue from a state (a bad snapshot, no agreeing peers). */
export class AveragingError extends SwarmError {
  override name = 'AveragingError';
  override readonly code = 'ERR_AVERAGING';
}
