/**
 * The SQL for "these cold files as the table's current columns": exactly the
 * manifest-listed files (never a glob), by name, each column cast to the
 * query's type; a column no listed file has (added after they were written)
 * reads NULL. Files with delete markers are read apart: one with few markers
 * on its own, filtered by `key NOT IN (…)`; the others together, anti-joined
 * with the statement's marks table (coldMarks.ts). Files without markers are
 * read as they are.
 */
import type { ColdType } from '../cold/columnTypes.js';
import { sqlIdent, sqlString } from '../cold/DuckDbEngine.js';
import { antiJoinMarks, FILE_COLUMN } from '../cold/markedRows.js';
import type { ColdMarks } from './coldMarks.js';
import type { ColdFilesForRead } from './openColdFiles.js';

function readFiles(cold: ColdFilesForRead, indexes: readonly number[], columns: readonly string[], types: readonly ColdType[], marks: ColdMarks | undefined, withFile: boolean): string {
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
  const list = indexes.map((i) => sqlString(cold.local[i]!)).join(', ');
  const file = withFile ? `s.${FILE_COLUMN}, ` : '';
  if (!marks && !withFile) return `SELECT ${select} FROM read_parquet([${list}], union_by_name = true) AS s`;
  const anti = marks?.table ? antiJoinMarks('s', marks.table, marks.keyColumn) : '';
  return `SELECT ${file}${select} FROM read_parquet([${list}], union_by_name = true, filename = '${FILE_COLUMN}') AS s${anti}`;
}

/**
 * `withFile`: the first column is FILE_COLUMN, the local path each row was
 * read from (for changes, which mark rows of one file).
 */
export function coldRelation(cold: ColdFilesForRead, columns: readonly string[], types: readonly ColdType[], marks?: ColdMarks, withFile = false): string {
  const all = cold.files.map((_, i) => i);
  if (!marks) return `(${readFiles(cold, all, columns, types, undefined, withFile)})`;
  const marked = all.filter((i) => marks.paths.has(cold.files[i]!.path) && !marks.inline.has(cold.files[i]!.path));
  const inline = all.filter((i) => marks.inline.has(cold.files[i]!.path));
  const plain = all.filter((i) => !marks.paths.has(cold.files[i]!.path));
  const key = sqlIdent(marks.keyColumn);
  const parts = [
    ...(plain.length > 0 || marked.length + inline.length === 0 ? [readFiles(cold, plain, columns, types, undefined, withFile)] : []),
    ...inline.map((i) => `${readFiles(cold, [i], columns, types, undefined, withFile)} WHERE s.${key} IS NULL OR s.${key} NOT IN (${marks.inline.get(cold.files[i]!.path)!})`),
    ...(marked.length > 0 ? [readFiles(cold, marked, columns, types, marks, withFile)] : []),
  ];
  return `(${parts.join(' UNION ALL ')})`;
}
