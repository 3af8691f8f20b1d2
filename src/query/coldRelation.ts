/**
 * The SQL for "these cold files as the table's current columns": exactly the
 * manifest-listed files (never a glob), by name, each column cast to the
 * query's type; a column no listed file has (added after they were written)
 * reads NULL.
 */
import type { ColdType } from '../cold/columnTypes.js';
import { sqlIdent, sqlString } from '../cold/DuckDbEngine.js';
import type { ColdFilesForRead } from './openColdFiles.js';

export function coldRelation(cold: ColdFilesForRead, columns: readonly string[], types: readonly ColdType[]): string {
  const present = new Set<string>();
  for (const f of cold.files) for (const name of f.columns.keys()) present.add(name);
  const select = columns
    .map((c, i) => `CAST(${present.has(c) ? sqlIdent(c) : 'NULL'} AS ${types[i]}) AS ${sqlIdent(c)}`)
    .join(', ');
  const list = cold.local.map(sqlString).join(', ');
  return `(SELECT ${select} FROM read_parquet([${list}], union_by_name = true))`;
}
