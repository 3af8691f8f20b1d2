/**
 * The row types of the manifest, taken from the drizzle schema of
 * `_tierdb_files` (src/hot/tierdbSchema.ts) with SQLite's snake_case names,
 * as better-sqlite3 returns them.
 */
import type { tierdbFiles, tierdbRuns } from '../hot/tierdbSchema.js';

/** `fileSha256` → `file_sha256`. */
type SnakeCase<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Uppercase<Head> ? (Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`) : Head}${SnakeCase<Tail>}`
  : S;
type SnakeRow<T> = { [K in keyof T as K extends string ? SnakeCase<K> : never]: T[K] };

/** `pending` (grace period: written, invisible), `live` (readers see it), `retired` (unlinked later). */
export type FileState = 'pending' | 'live' | 'retired';

/** One row of `_tierdb_files`. */
export type ManifestFile = Omit<SnakeRow<typeof tierdbFiles.$inferSelect>, 'state'> & { state: FileState };

/**
 * A manifest row about to be inserted. `drained_rows` is set only by the
 * archiver's commit (0: the rows are all still hot and get drained); absent: NULL.
 */
export type NewManifestFile = Omit<ManifestFile, 'id' | 'retired_at_ms' | 'drained_rows'> & { drained_rows?: number | null };

/** One row of `_tierdb_runs`. */
export type RunRow = SnakeRow<typeof tierdbRuns.$inferSelect>;
