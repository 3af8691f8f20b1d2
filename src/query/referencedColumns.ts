/**
 * The columns of a table that a SQL text can use: every column named as a
 * whole word (any case), plus the key column (hot rows shadow cold ones by
 * key). A `*` other than `count(*)` means every column. bridge.sql then loads and reads only these, so an aggregate
 * over one column does not copy whole rows.
 */
import type { TableShape } from './tableShape.js';

const wordPattern = (name: string) => new RegExp(`(?<![A-Za-z0-9_$])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9_$])`, 'i');

export function referencedColumns(sql: string, shape: TableShape): TableShape {
  // `count(*)` names no column; any other `*` (SELECT *, t.*, COLUMNS(*)) may mean all of them.
  if (sql.replace(/count\s*\(\s*\*\s*\)/gi, 'count()').includes('*')) return shape;
  const keep = shape.columns.filter((c) => c.name === shape.keyColumn || wordPattern(c.name).test(sql));
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
