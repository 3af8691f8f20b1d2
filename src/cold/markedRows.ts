/**
 * Reading cold files minus their delete markers, in DuckDB: the markers of
 * the files one statement reads go into a temp table of (local path, key), and
 * the files are read with their file name as a column and anti-joined with it.
 * Files without markers are read as before: a query that touches no marked
 * file pays nothing.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { FileMarkers } from '../manifest/deleteMarkers.js';
import { appendRows, createTempTable } from '../query/appendRows.js';
import type { ColdType } from './columnTypes.js';
import { sqlIdent } from './DuckDbEngine.js';

/** A key as a DuckDB column of `keyType` takes it (a TEXT key column may hold integers SQLite stored as such). */
export function keyForColumn(keyType: ColdType, key: unknown): unknown {
  return keyType === 'VARCHAR' ? String(key) : key;
}

/** The file-name column every marked read adds (read_parquet's `filename`). */
export const FILE_COLUMN = '__tierdb_file';

/**
 * Creates (or replaces) temp table `name` (__tierdb_f VARCHAR, __tierdb_k <keyType>) with the
 * markers of the files in `paths` (manifest paths), each named by the local
 * path DuckDB reads for it (`local[i]` for `paths[i]`). Returns how many rows
 * it holds (0: nothing to anti-join; the table is still created).
 */
export async function loadMarksTable(
  con: DuckDBConnection,
  name: string,
  keyType: ColdType,
  paths: readonly string[],
  local: readonly string[],
  marks: FileMarkers,
): Promise<number> {
  await con.run(`DROP TABLE IF EXISTS ${sqlIdent(name)}`);
  await createTempTable(con, name, ['__tierdb_f', '__tierdb_k'], ['VARCHAR', keyType]);
  const rows: unknown[][] = [];
  for (const [i, p] of paths.entries()) {
    for (const k of marks.byPath.get(p) ?? []) rows.push([local[i], keyForColumn(keyType, k)]);
  }
  await appendRows(con, name, ['VARCHAR', keyType], rows);
  return rows.length;
}

/** The row-position column a marked read adds when it is asked for (read_parquet's `file_row_number`). */
export const POS_COLUMN = '__tierdb_pos';

/**
 * Creates (or replaces) temp table `name` (__tierdb_g BIGINT): one row per
 * marker, `(i << 32) | pos`, where `i` is the file's index in `paths` — the
 * order the one read_parquet list of the anti-joined files names them in
 * (DuckDB's `file_index`) — and `pos` the marked row's `file_row_number`.
 * One integer per row to probe: no file name and no key column to decode.
 */
export async function loadPositionMarksTable(con: DuckDBConnection, name: string, paths: readonly string[], positions: ReadonlyMap<string, readonly number[]>): Promise<number> {
  await con.run(`DROP TABLE IF EXISTS ${sqlIdent(name)}`);
  await createTempTable(con, name, ['__tierdb_g'], ['BIGINT']);
  const rows: unknown[][] = [];
  for (const [i, p] of paths.entries()) {
    const at = positions.get(p);
    if (!at) throw new Error(`internal: no marker positions for ${p}`);
    for (const pos of at) rows.push([(BigInt(i) << 32n) | BigInt(pos)]);
  }
  await appendRows(con, name, ['BIGINT'], rows);
  return rows.length;
}

/** `… AS alias ANTI JOIN marks` by position: a read with `file_row_number = true` of exactly the files loadPositionMarksTable was given, in its order. */
export function antiJoinPositions(alias: string, marksTable: string): string {
  return ` ANTI JOIN ${sqlIdent(marksTable)} AS __tierdb_m ON __tierdb_m.__tierdb_g = ((${alias}.file_index::BIGINT << 32) | ${alias}.file_row_number)`;
}

/** `… AS alias ANTI JOIN marks`: the rows of a read with `filename = FILE_COLUMN` whose (file, key) is not marked. */
export function antiJoinMarks(alias: string, marksTable: string, keyColumn: string): string {
  return ` ANTI JOIN ${sqlIdent(marksTable)} AS __tierdb_m ON __tierdb_m.__tierdb_f = ${alias}.${FILE_COLUMN} AND __tierdb_m.__tierdb_k = ${alias}.${sqlIdent(keyColumn)}`;
}
