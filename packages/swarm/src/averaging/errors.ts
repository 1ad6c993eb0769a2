import { SwarmError } from '../errors.ts';

/** Inputs to an aggregation or outer-optimizer call are invalid (empty, mismatched lengths, bad weights...). */
export class AggregationError extends SwarmError {
  override name = 'AggregationError';
  override readonly code = 'ERR_AGGREGATION';
  /** The offending field, e.g. `updates[3].weight`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(`averaging: ${field}: ${message}`);
    this.field = field;
  }
}
