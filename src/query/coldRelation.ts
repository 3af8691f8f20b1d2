/**
 * The SQL for "these cold files as the table's current columns": exactly the
 * manifest-listed files (never a glob), by name, each column cast to the
 * query's type; a column no listed file has (added after they were written)
 * reads NULL. Files with delete markers are read apart: when the statement's
 * marked files are few (coldMarks.ts), each on its own, filtered by
 * `key NOT IN (…)`; otherwise together, anti-joined with the statement's
 * marks table (by file index and row position, or by file name and key). Files without markers are read as they are.
 * A file the archiver is still draining (`drainedRows` set) is read apart too,
 * only its first `drainedRows` rows: the rest are still hot, and the hot table
 * answers for them (a row the app deleted meanwhile must not come back from the file).
 */
import type { ColdType } from '../cold/columnTypes.js';
import { sqlIdent, readColdParquet } from '../cold/DuckDbEngine.js';
import { antiJoinMarks, antiJoinPositions, FILE_COLUMN, POS_COLUMN } from '../cold/markedRows.js';
import type { ColdMarks } from './coldMarks.js';
import type { ColdFilesForRead } from './openColdFiles.js';

/**
 * Whether the files hold the same columns, in the same order, of the same types. Then DuckDB
 * may line them up by position: `union_by_name` costs a third of a scan's time (measured: an
 * all-history GROUP BY over 393 day files 337 -> 210 ms without it), and is needed only once a
 * column was added or a type widened between files.
 */
function sameColumns(cold: ColdFilesForRead, indexes: readonly number[]): boolean {
  const first = cold.files[indexes[0]!]?.columns;
  if (first === undefined) return true;
  for (const i of indexes) {
    const columns = cold.files[i]!.columns;
    if (columns === first) continue;
    if (columns.size !== first.size) return false;
    const a = columns.entries();
    for (const [name, type] of first) {
      const next = a.next().value!;
      if (next[0] !== name || next[1] !== type) return false;
    }
  }
  return true;
}

function readFiles(
  cold: ColdFilesForRead,
  indexes: readonly number[],
  columns: readonly string[],
  types: readonly ColdType[],
  marks: ColdMarks | undefined,
  withFile: boolean,
  drainedRows: number | null = null,
): string {
  // Per column: the type every file holds it as (null: files disagree), or absent from every file.
  const held = new Map<string, ColdType | null>();
  for (const i of indexes) {
    for (const [name, type] of cold.files[i]!.columns) {
      const seen = held.get(name);
      held.set(name, seen === undefined || seen === type ? type : null);
    }
  }
  const select = columns
    .map((c, i) => {
      const type = held.get(c);
      if (type === undefined) return `CAST(NULL AS ${types[i]}) AS ${sqlIdent(c)}`;
      // Every file already holds the query's type (the common case): no cast to run per value.
      if (type === types[i] && indexes.every((f) => cold.files[f]!.columns.has(c))) return `s.${sqlIdent(c)} AS ${sqlIdent(c)}`;
      return `CAST(s.${sqlIdent(c)} AS ${types[i]}) AS ${sqlIdent(c)}`;
    })
    .join(', ');
  const local = indexes.map((i) => cold.local[i]!);
  const union = !sameColumns(cold, indexes) && 'union_by_name = true';
  const positional = marks?.table !== undefined && marks.positional !== undefined;
  if (positional) {
    // The positions table numbers the files as marks.positional lists them: this read must list exactly those, in that order.
    const order = indexes.map((i) => cold.files[i]!.path);
    if (drainedRows !== null || order.length !== marks.positional!.length || order.some((p, i) => p !== marks.positional![i])) {
      throw new Error('internal: a positional marker read must list the marked files in the order their positions were loaded');
    }
  }
  const file = withFile ? `s.${FILE_COLUMN}, s.file_row_number AS ${POS_COLUMN}, ` : '';
  const rowOption = !(drainedRows === null && !withFile && !positional) && 'file_row_number = true';
  const prefix = drainedRows === null ? '' : ` WHERE s.file_row_number < ${drainedRows}`;
  if (!marks && !withFile) return `SELECT ${select} FROM ${readColdParquet(local, union, rowOption)} AS s${prefix}`;
  const anti = !marks?.table ? '' : positional ? antiJoinPositions('s', marks.table) : antiJoinMarks('s', marks.table, marks.keyColumn);
  const fileOption = (withFile || (marks?.table !== undefined && !positional)) && `filename = '${FILE_COLUMN}'`;
  return `SELECT ${file}${select} FROM ${readColdParquet(local, union, fileOption, rowOption)} AS s${anti}${prefix}`;
}

/**
 * `withFile`: the first columns are FILE_COLUMN, the local path each row was
 * read from, and POS_COLUMN, its position in that file (for changes, which
 * mark rows of one file).
 */
export function coldRelation(cold: ColdFilesForRead, columns: readonly string[], types: readonly ColdType[], marks?: ColdMarks, withFile = false): string {
  const all = cold.files.map((_, i) => i);
  const draining = all.filter((i) => cold.files[i]!.drainedRows != null);
  if (!marks && draining.length === 0) return `(${readFiles(cold, all, columns, types, undefined, withFile)})`;
  const isMarked = (i: number) => marks !== undefined && marks.paths.has(cold.files[i]!.path);
  // coldMarks never inlines a draining file's markers (it is read with its prefix filter).
  const isInline = (i: number) => marks !== undefined && marks.inline.has(cold.files[i]!.path);
  const whole = all.filter((i) => cold.files[i]!.drainedRows == null);
  const marked = whole.filter((i) => isMarked(i) && !isInline(i));
  const inline = whole.filter(isInline);
  const plain = whole.filter((i) => !isMarked(i));
  const key = marks ? sqlIdent(marks.keyColumn) : '';
  const parts = [
    ...(plain.length > 0 || (marked.length + inline.length === 0 && draining.length === 0) ? [readFiles(cold, plain, columns, types, undefined, withFile)] : []),
    ...inline.map((i) => `${readFiles(cold, [i], columns, types, undefined, withFile)} WHERE s.${key} IS NULL OR s.${key} NOT IN (${marks!.inline.get(cold.files[i]!.path)!})`),
    ...(marked.length > 0 ? [readFiles(cold, marked, columns, types, marks, withFile)] : []),
    ...draining.map((i) => readFiles(cold, [i], columns, types, isMarked(i) ? marks : undefined, withFile, cold.files[i]!.drainedRows)),
  ];
  return `(${parts.join(' UNION ALL ')})`;
}
