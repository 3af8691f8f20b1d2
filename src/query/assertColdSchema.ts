/**
 * Cold files are read by column name and cast to the hot table's types, so a
 * hot schema change made after rows were archived would change answers
 * silently: a renamed column would read NULL from the older files, a column
 * dropped and added again with another type would read the old values cast to
 * the new type. Both are a SchemaDriftError naming the table, the column and a
 * file, for every query that reads such a file (queries whose filter prunes
 * those files away still answer). A column added later is fine (older files
 * read NULL), and so is an INTEGER file column under a REAL one (exact).
 */
import { SchemaDriftError } from '../errors.js';
import type { LiveFile } from './readLiveFiles.js';
import type { TableShape } from './tableShape.js';

const SQLITE_TYPE = { BIGINT: 'INTEGER', DOUBLE: 'REAL', VARCHAR: 'TEXT', BLOB: 'BLOB' } as const;

export function assertColdSchema(shape: TableShape, files: readonly LiveFile[]): void {
  const hot = new Map(shape.columns.map((c) => [c.name.toLowerCase(), c]));
  for (const f of files) {
    for (const [name, type] of f.columns) {
      const column = hot.get(name.toLowerCase());
      if (!column) {
        throw new SchemaDriftError(
          `${shape.table}: cold file ${f.path} holds column ${name}, which the hot table no longer has (renamed or dropped after ` +
            `those rows were archived); its values would be missing from answers. Add it back ` +
            `(ALTER TABLE ${shape.table} ADD COLUMN ${name} ${SQLITE_TYPE[type]}) or rename it back.`,
        );
      }
      if (column.type !== undefined && column.type !== type && !(column.type === 'DOUBLE' && type === 'BIGINT')) {
        throw new SchemaDriftError(
          `${shape.table}.${column.name} is ${SQLITE_TYPE[column.type]} in the hot table but ${SQLITE_TYPE[type]} in cold file ${f.path} ` +
            `(dropped and added again with another type after those rows were archived); declare it ${SQLITE_TYPE[type]} again ` +
            `or give the new column another name.`,
        );
      }
    }
  }
}
