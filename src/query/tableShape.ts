/**
 * One registered table as the bridge sees it for one query: the hot table's
 * current columns (in table order) with the type each has in DuckDB, plus the
 * key and time columns. Columns added after some days were archived exist here
 * and read NULL from the older files.
 */
import { affinityType, type ColdType } from '../cold/columnTypes.js';
import { ArgumentError } from '../errors.js';
import type { TimeUnit } from '../registry/defineRegistry.js';
import type { ColumnInfo, ResolvedTable } from '../registry/resolveRegistry.js';
import type { LiveFile } from './readLiveFiles.js';

export interface ShapeColumn {
  readonly name: string;
  /** Known before reading data: the declared affinity, else the newest cold file's type; undefined for untyped columns. */
  readonly type: ColdType | undefined;
}

export interface TableShape {
  readonly table: string;
  readonly keyColumn: string;
  readonly timeColumn: string;
  readonly timeUnit: TimeUnit;
  readonly columns: readonly ShapeColumn[];
  readonly names: readonly string[];
  readonly byName: ReadonlyMap<string, ShapeColumn>;
  /** The key's and the time's position in `names`; -1 where bridge.sql's statement does not read them (referencedColumns). */
  readonly keyIndex: number;
  readonly timeIndex: number;
}

export function tableShape(t: ResolvedTable, columns: readonly ColumnInfo[], files: readonly LiveFile[]): TableShape {
  const shaped: ShapeColumn[] = columns.map((c) => {
    let type = affinityType(c.declaredType);
    if (type === undefined) {
      for (let i = files.length - 1; i >= 0 && type === undefined; i--) type = files[i]!.columns.get(c.name);
    }
    return { name: c.name, type };
  });
  const names = shaped.map((c) => c.name);
  const keyIndex = names.indexOf(t.keyColumn);
  const timeIndex = names.indexOf(t.timeColumn);
  if (keyIndex < 0 || timeIndex < 0) {
    throw new ArgumentError(`table ${t.table} no longer has its key column ${t.keyColumn} or time column ${t.timeColumn}`);
  }
  return {
    table: t.table,
    keyColumn: t.keyColumn,
    timeColumn: t.timeColumn,
    timeUnit: t.timeUnit,
    columns: shaped,
    names,
    byName: new Map(shaped.map((c) => [c.name, c])),
    keyIndex,
    timeIndex,
  };
}
