/**
 * Maps SQLite columns to Parquet (DuckDB) types that keep every value exactly,
 * and refuses values whose storage class does not match their column.
 */
import type { DuckDBType } from '@duckdb/node-api';
import { BIGINT, BLOB, DOUBLE, VARCHAR } from './duckdbApi.js';
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

/** The Parquet type that keeps a column's values, from its SQLite affinity; NUMERIC and untyped columns have none (the data decides, see `ChunkColdTypes`). */
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

/**
 * Each column's cold type for one chunk, decided as its values are seen. Typed
 * columns keep their affinity's type; untyped, NUMERIC and BLOB-affinity columns
 * take the class of their first non-NULL value, and are VARCHAR until they have
 * one (a column that is NULL throughout the chunk stays VARCHAR).
 */
export class ChunkColdTypes {
  /** The class each column's values must have; undefined while an undecided column has seen only NULLs. */
  readonly expected: (ValueClass | undefined)[];
  /** Each column's type so far. */
  readonly types: ColdType[];

  constructor(columns: readonly ColumnInfo[]) {
    const declared = columns.map((c) => affinityType(c.declaredType));
    this.expected = declared.map((t) => (t ? CLASS_OF_TYPE[t] : undefined));
    this.types = declared.map((t) => t ?? 'VARCHAR');
  }

  /** Column `c` (undecided so far) takes the class of its first value. */
  decide(c: number, cls: ValueClass): void {
    this.expected[c] = cls;
    this.types[c] = TYPE_OF_CLASS[cls];
  }
}

export function sqliteClassName(cls: ValueClass): string {
  return SQLITE_NAME[cls];
}
