/**
 * The delete markers of the cold files one statement reads. When they are few
 * (the common case: a query touching a few days after some deletes — at most
 * INLINE_MARKED_FILES marked files, each with at most INLINE_MARKS_PER_FILE
 * markers), each marked file is read on its own with its keys as a literal
 * `NOT IN` list: a filter in the scan, no join, no temp table. Otherwise every
 * marker goes into a DuckDB temp table of the statement's connection,
 * anti-joined in one scan of the marked files: by (file index, row position)
 * when every marker has its position and no marked file is draining (one
 * BIGINT per row, the key column not read: measured on 325 marked day files,
 * the anti-join's cost 23 ms -> 6 ms), else by (file name, key). Undefined when
 * none of the files has a marker: then nothing is loaded and nothing filtered.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColdType } from '../cold/columnTypes.js';
import { sqlString } from '../cold/DuckDbEngine.js';
import { keyForColumn, loadMarksTable, loadPositionMarksTable } from '../cold/markedRows.js';
import type { FileMarkers } from '../manifest/deleteMarkers.js';
import type { ColdFilesForRead } from './openColdFiles.js';

/** A file with at most this many markers is read apart with its keys inline. */
export const INLINE_MARKS_PER_FILE = 32;
/** At most this many files are read apart that way (each is its own scan in the statement). */
export const INLINE_MARKED_FILES = 16;

export interface ColdMarks {
  /** The temp table of the marked files not in `inline`; undefined when every marked file is. */
  readonly table: string | undefined;
  /**
   * When `table` holds positions (loadPositionMarksTable): the manifest paths
   * of the anti-joined files in the order their one read must list them.
   * Undefined: `table` is (local path, key).
   */
  readonly positional: readonly string[] | undefined;
  readonly keyColumn: string;
  /** Manifest paths of the files with markers. */
  readonly paths: ReadonlySet<string>;
  /** Manifest path → its marked keys as SQL literals (`1, 2, 3`): read apart, `key NOT IN (…)`. */
  readonly inline: ReadonlyMap<string, string>;
}

/** A key as a SQL literal of `keyType`, or undefined when it has no plain one (then it is not inlined). */
function keyLiteral(keyType: ColdType, key: unknown): string | undefined {
  const k = keyForColumn(keyType, key);
  if (typeof k === 'string') return sqlString(k);
  if (typeof k === 'bigint' || (typeof k === 'number' && Number.isSafeInteger(k))) return `${k}`;
  return undefined;
}

function inlineList(keyType: ColdType, keys: readonly unknown[]): string | undefined {
  const out: string[] = [];
  for (const k of keys) {
    const l = keyLiteral(keyType, k);
    if (l === undefined) return undefined;
    out.push(l);
  }
  return out.join(', ');
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
  // All or none: once one marked file needs the anti-join, the others join it in that one scan
  // (reading them apart would only add scans; measured: a GROUP BY over 325 marked day files 1.06x -> 1.21x).
  let inline = new Map<string, string>();
  for (const f of cold.files) {
    const keys = marks.byPath.get(f.path);
    if (!keys || keys.length === 0) continue;
    // Only where this file stores the key as the others do (a literal compares as that type), and
    // not a file still draining (coldRelation reads it with its prefix filter and the anti-join).
    const inlinable = keys.length <= INLINE_MARKS_PER_FILE && f.columns.get(keyColumn) === keyType && f.drainedRows == null;
    const list = inlinable ? inlineList(keyType, keys) : undefined;
    if (list === undefined || inline.size === INLINE_MARKED_FILES) {
      inline = new Map();
      break;
    }
    inline.set(f.path, list);
  }
  const rest = cold.files.filter((f) => marks.byPath.has(f.path) && !inline.has(f.path));
  if (rest.length > 0 && rest.every((f) => f.drainedRows == null && marks.positions.has(f.path))) {
    const order = rest.map((f) => f.path);
    await loadPositionMarksTable(con, name, order, marks.positions);
    return { table: name, positional: order, keyColumn, paths: new Set(marks.byPath.keys()), inline };
  }
  if (rest.length > 0) {
    const byPath = new Map([...marks.byPath].filter(([p]) => !inline.has(p)));
    const local = cold.files.map((f, i) => (inline.has(f.path) ? undefined : cold.local[i]!));
    const paths = cold.files.map((f) => f.path).filter((_, i) => local[i] !== undefined);
    await loadMarksTable(con, name, keyType, paths, local.filter((l): l is string => l !== undefined), { ...marks, byPath });
  }
  return { table: rest.length > 0 ? name : undefined, positional: undefined, keyColumn, paths: new Set(marks.byPath.keys()), inline };
}
