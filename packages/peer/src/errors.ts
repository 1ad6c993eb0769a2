import { EnjambreError } from '@enjambre/core';

/** The config, the model and the data do not fit together (e.g. a model input of the wrong shape). */
export class PeerSetupError extends EnjambreError {
  override name = 'PeerSetupError';
  override readonly code = 'ERR_PEER_SETUP';
}

/** A checkpoint cannot resume this run (different model, config or parameter shapes). */
export class ResumeError extends EnjambreError {
  override name = 'ResumeError';
  override readonly code = 'ERR_RESUME';
}
