/**
 * Maps SQLite columns to Parquet (DuckDB) types that keep every value exactly,
 * and refuses values whose storage class does not match their column.
 */
import { BIGINT, BLOB, DOUBLE, VARCHAR, type DuckDBType } from '@duckdb/node-api';
import { sqliteAffinity, type SqliteAffinity } from '../hot/sqliteAffinity.js';
import type { ColumnInfo } from '../registry/resolveRegistry.js';

export type ColdType = 'BIGINT' | 'DOUBLE' | 'VARCHAR' | 'BLOB';

/** JS class of a value read from better-sqlite3 with safeIntegers. */
export type ValueClass = 'integer' | 'real' | 'text' | 'blob';

export const DUCKDB_TYPES: Record<ColdType, DuckDBType> = { BIGINT, DOUBLE, VARCHAR, BLOB };
const CLASS_OF_TYPE: Record<ColdType, ValueClass> = { BIGINT: 'integer', DOUBLE: 'real', VARCHAR: 'text', BLOB: 'blob' };
/** The Parquet type that keeps values of a SQLite storage class. */
export const TYPE_OF_CLASS: Record<ValueClass, ColdType> = { integer: 'BIGINT', real: 'DOUBLE', text: 'VARCHAR', blob: 'BLOB' };
const SQLITE_NAME: Record<ValueClass, string> = { integer: 'INTEGER', real: 'REAL', text: 'TEXT', blob: 'BLOB' };

/** The Parquet type that keeps a column's values, from its SQLite affinity; NUMERIC and untyped columns have none (the data decides, see `decideColdTypes`). */
const COLD_TYPE_OF_AFFINITY: Record<SqliteAffinity, ColdType | undefined> = { INTEGER: 'BIGINT', TEXT: 'VARCHAR', REAL: 'DOUBLE', BLOB: undefined, NUMERIC: undefined };

export function affinityType(declaredType: string): ColdType | undefined {
  return COLD_TYPE_OF_AFFINITY[sqliteAffinity(declaredType)];
}

export function classOf(value: unknown): ValueClass | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return 'integer';
  if (typeof value === 'number') return 'real';
  if (typeof value === 'string') return 'text';
  return 'blob';
}

export interface TypeMismatch {
  column: string;
  expected: ValueClass;
  found: ValueClass;
  rowIndex: number;
  value: unknown;
}

/**
 * Decides each column's cold type for a chunk and finds the first value of
 * another class. Typed columns keep their affinity's type; untyped/NUMERIC
 * columns take the class of their first non-NULL value.
 */
export function decideColdTypes(
  columns: readonly ColumnInfo[],
  rows: readonly unknown[][],
): { types: ColdType[]; mismatch?: TypeMismatch } {
  const types: (ColdType | undefined)[] = columns.map((c) => affinityType(c.declaredType));
  const expected: (ValueClass | undefined)[] = types.map((t) => (t ? CLASS_OF_TYPE[t] : undefined));
  const width = columns.length;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    for (let c = 0; c < width; c++) {
      const cls = classOf(row[c]);
      if (cls === null) continue;
      const want = expected[c];
      if (want === undefined) {
        expected[c] = cls;
        types[c] = TYPE_OF_CLASS[cls];
      } else if (want !== cls) {
        return {
          types: types.map((t) => t ?? 'VARCHAR'),
          mismatch: { column: columns[c]!.name, expected: want, found: cls, rowIndex: r, value: row[c] },
        };
      }
    }
  }
  // A column that is NULL throughout the chunk: its declared affinity, or VARCHAR.
  return { types: types.map((t) => t ?? 'VARCHAR') };
}

export function sqliteClassName(cls: ValueClass): string {
  return SQLITE_NAME[cls];
}
