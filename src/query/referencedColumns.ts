/**
 * The columns of a table a bridge.sql statement can see (see
 * readSqlReferences): every column whose name (any case) the statement uses
 * as an identifier, plus the key column when hot rows shadow cold ones
 * (`needKey`: some hot key falls inside a listed file's key range); every
 * column when the statement reads whole rows. bridge.sql then loads and reads
 * only these, so an aggregate over one column does not copy whole rows, nor
 * the keys nobody asked for. A statement naming no column still gets the key
 * (a view needs a column).
 */
import type { SqlReferences } from './readSqlReferences.js';
import type { TableShape } from './tableShape.js';

export function referencedColumns(refs: SqlReferences, shape: TableShape, needKey = true): TableShape {
  const used = refs.columns;
  if (used === 'all') return shape;
  let keep = shape.columns.filter((c) => (needKey && c.name === shape.keyColumn) || used.has(c.name.toLowerCase()));
  if (keep.length === 0) keep = shape.columns.filter((c) => c.name === shape.keyColumn);
  if (keep.length === shape.columns.length) return shape;
  const names = keep.map((c) => c.name);
  return {
    ...shape,
    columns: keep,
    names,
    byName: new Map(keep.map((c) => [c.name, c])),
    keyIndex: names.indexOf(shape.keyColumn),
    timeIndex: names.indexOf(shape.timeColumn),
  };
}
