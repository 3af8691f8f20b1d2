/**
 * What an append returns: every input position ends up in exactly one of
 * `inserted`, `duplicates` or `rejected` (with its index and the reason).
 */
export interface RejectedRow {
  /** Position of the row in the input. */
  index: number;
  reason: string;
}

export interface AppendResult {
  inserted: number;
  duplicates: number;
  rejected: RejectedRow[];
}

/**
 * What an append does with a row whose key (or another unique column) is
 * already stored, hot or cold, or appeared earlier in the same call:
 * `ignore` keeps the stored row and counts a duplicate; `error` keeps the
 * stored row and reports the new one in `rejected` with the reason.
 */
export type OnConflict = 'ignore' | 'error';

export interface AppendOptions {
  /** Default `error`: a duplicate is never counted away silently. */
  onConflict?: OnConflict;
}
