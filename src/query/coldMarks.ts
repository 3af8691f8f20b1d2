/**
 * The delete markers of the cold files one statement reads, loaded into a
 * DuckDB temp table of that statement's connection. Undefined when none of
 * the files has a marker: then nothing is loaded and nothing anti-joined.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColdType } from '../cold/columnTypes.js';
import { loadMarksTable } from '../cold/markedRows.js';
import type { FileMarkers } from '../manifest/deleteMarkers.js';
import type { ColdFilesForRead } from './openColdFiles.js';

export interface ColdMarks {
  /** The temp table (local path, key). */
  readonly table: string;
  readonly keyColumn: string;
  /** Manifest paths of the files with markers. */
  readonly paths: ReadonlySet<string>;
}

export async function loadColdMarks(
  con: DuckDBConnection,
  name: string,
  cold: ColdFilesForRead,
  marks: FileMarkers,
  keyColumn: string,
): Promise<ColdMarks | undefined> {
  if (marks.count === 0) return undefined;
  // The key's type as the marked files store it (the statement may not read the key column at all).
  const keyType: ColdType = cold.files.find((f) => marks.byPath.has(f.path))?.columns.get(keyColumn) ?? 'BIGINT';
  await loadMarksTable(con, name, keyType, cold.files.map((f) => f.path), cold.local, marks);
  return { table: name, keyColumn, paths: new Set(marks.byPath.keys()) };
}
