import { SwarmError } from '../errors.ts';

/** The averaging protocol met a state it cannot continue from (bad snapshot, no agreeing peers). */
export class ProtocolError extends SwarmError {
  override name = 'ProtocolError';
  override readonly code = 'ERR_PROTOCOL';
}
