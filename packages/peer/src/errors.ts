/** The config, the model and the data do not fit together (e.g. a model input of the wrong shape). */
export class PeerSetupError extends Error {
  override name = 'PeerSetupError';
  readonly code = 'ERR_PEER_SETUP';
}

/** A checkpoint cannot resume this run (different model, config or parameter shapes). */
export class ResumeError extends Error {
  override name = 'ResumeError';
  readonly code = 'ERR_RESUME';
}
