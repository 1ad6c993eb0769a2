/**
 * The encoding a CSV dataset learns from its training rows, as plain JSON types. Kept apart from
 * csv.ts so that the dataset spec can name it without importing the loader.
 */

/** A numeric feature: encoded as `((value ?? fill) - center) / scale`. */
export interface CsvNumericFeature {
  readonly name: string;
  readonly kind: 'numeric';
  /** Value used for a missing cell: the training mean. */
  readonly fill: number;
  /** Training mean when standardising, else 0. */
  readonly center: number;
  /** Training standard deviation (population, over the imputed column; 1 if it is 0) when standardising, else 1. */
  readonly scale: number;
}

/**
 * A categorical feature, one-hot encoded over `categories.length + 1` columns: one per training
 * category (sorted), and a last one for a missing or unseen value. Every encoded row has exactly one 1.
 */
export interface CsvCategoricalFeature {
  readonly name: string;
  readonly kind: 'categorical';
  readonly categories: readonly string[];
}

export type CsvFeature = CsvNumericFeature | CsvCategoricalFeature;

/** The target column: class names (sorted; label = index) or a numeric regression target. */
export type CsvTarget =
  | { readonly name: string; readonly task: 'classification'; readonly classes: readonly string[] }
  | { readonly name: string; readonly task: 'regression' };

/** Everything needed to encode a CSV row the way the training rows were encoded. Plain JSON. */
export interface CsvEncoding {
  readonly version: 1;
  readonly target: CsvTarget;
  /** Features in encoding order. */
  readonly features: readonly CsvFeature[];
  /** Cell values meaning "missing". */
  readonly missingValues: readonly string[];
}
