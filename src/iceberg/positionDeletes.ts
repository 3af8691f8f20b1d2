/**
 * tierdb's delete markers as one Iceberg position delete file per snapshot
 * (spec "Position Delete Files"): a Parquet file of (file_path, pos) — the data
 * file's URL as its manifest entry names it, and the row's 0-based position in
 * that file (DuckDB's `file_row_number`) — sorted by file_path then pos, with
 * the spec's reserved field ids 2147483546 and 2147483545. The markers name
 * rows by (path, key); the positions come from reading the key column of
 * just the marked files.
 */
import type { ColdType } from '../cold/columnTypes.js';
import { sqlIdent, sqlString, type DuckDbEngine, readColdParquet } from '../cold/DuckDbEngine.js';
import { FILE_COLUMN, loadMarksTable } from '../cold/markedRows.js';
import type { FileMarkers } from '../manifest/deleteMarkers.js';
import { appendRows, createTempTable } from '../query/appendRows.js';
import { POSITION_DELETE_IDS } from './icebergAvroSchemas.js';

const MARKS = '__tierdb_iceberg_marks';
const URLS = '__tierdb_iceberg_urls';

export interface MarkedFile {
  /** Manifest path. */
  readonly path: string;
  /** Where DuckDB reads it. */
  readonly local: string;
  /** The URL its manifest entry names. */
  readonly url: string;
}

/** Writes the delete file to `out`; returns its row count and the data files it references (URLs). */
export async function writePositionDeletes(
  engine: DuckDbEngine,
  out: string,
  files: readonly MarkedFile[],
  marks: FileMarkers,
  keyColumn: string,
  keyType: ColdType,
): Promise<{ rows: number; referenced: string[] }> {
  const con = engine.connection;
  await loadMarksTable(con, MARKS, keyType, files.map((f) => f.path), files.map((f) => f.local), marks);
  await con.run(`DROP TABLE IF EXISTS ${URLS}`);
  await createTempTable(con, URLS, ['local', 'url'], ['VARCHAR', 'VARCHAR']);
  await appendRows(con, URLS, ['VARCHAR', 'VARCHAR'], files.map((f) => [f.local, f.url]));
  try {
    await con.run(
      `COPY (SELECT u.url AS file_path, f.file_row_number AS pos
               FROM ${readColdParquet(files.map((f) => f.local), `filename = '${FILE_COLUMN}'`, 'file_row_number = true', 'union_by_name = true')} AS f
               JOIN ${MARKS} AS m ON m.__tierdb_f = f.${FILE_COLUMN} AND m.__tierdb_k = f.${sqlIdent(keyColumn)}
               JOIN ${URLS} AS u ON u.local = f.${FILE_COLUMN}
              ORDER BY file_path, pos)
         TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd, FIELD_IDS {file_path: ${POSITION_DELETE_IDS.file_path}, pos: ${POSITION_DELETE_IDS.pos}})`,
    );
    const reader = await con.runAndReadAll(`SELECT count(*), list(DISTINCT file_path ORDER BY file_path) FROM read_parquet(${sqlString(out)})`);
    const [count, referenced] = reader.getRowsJS()[0] as [bigint, string[] | null];
    return { rows: Number(count), referenced: referenced ?? [] };
  } finally {
    await con.run(`DROP TABLE IF EXISTS ${MARKS}; DROP TABLE IF EXISTS ${URLS}`);
  }
}
