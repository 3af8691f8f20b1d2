/**
 * The SQL for "these cold files as the table's current columns": exactly the
 * manifest-listed files (never a glob), by name, each column cast to the
 * query's type; a column no listed file has (added after they were written)
 * reads NULL.
 */
import type { ColdType } from '../cold/columnTypes.js';
import { absoluteColdPath } from '../cold/coldLayout.js';
import { sqlIdent, sqlString } from '../cold/DuckDbEngine.js';
import type { LiveFile } from './readLiveFiles.js';

export function coldRelation(coldDir: string, files: readonly LiveFile[], columns: readonly string[], types: readonly ColdType[]): string {
  const present = new Set<string>();
  for (const f of files) for (const name of f.columns.keys()) present.add(name);
  const select = columns
    .map((c, i) => `CAST(${present.has(c) ? sqlIdent(c) : 'NULL'} AS ${types[i]}) AS ${sqlIdent(c)}`)
    .join(', ');
  const list = files.map((f) => sqlString(absoluteColdPath(coldDir, f.path))).join(', ');
  return `(SELECT ${select} FROM read_parquet([${list}], union_by_name = true))`;
}
