/**
 * The benchmarks' data, through the product's dataset registry: a dataset from the per-user cache,
 * downloaded first when it is missing (from the public URLs, or from a mirror given with the
 * scripts' --data-from flag or the ENJAMBRE_DATA_MIRROR environment variable), verified either way.
 */
import { type CachedDataset, getDataset } from '@enjambre/data';

/** The `--data-from` option every script that reads a dataset takes (for `parseArgs`). */
export const DATA_FROM_OPTION = { 'data-from': { type: 'string' } } as const;

/** `name`'s files, fetched into the cache when missing; progress notes go to stderr. */
export async function benchmarkDataset(name: string, from: string | undefined): Promise<CachedDataset> {
  return getDataset(name, {
    from,
    onEvent: (e) => {
      if (e.type === 'file-start') console.error(`${name}: fetching ${e.file} from ${e.source}`);
      if (e.type === 'retry') console.error(`${name}: ${e.reason}`);
    },
  });
}
