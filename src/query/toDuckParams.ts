/**
 * Binds JS values to DuckDB parameters with explicit types, so a bigint stays a
 * 64-bit integer and a Buffer a BLOB: values are bound, never spliced into SQL.
 */
import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { BIGINT, BLOB, BOOLEAN, DOUBLE, DuckDBBlobValue, HUGEINT, SQLNULL, VARCHAR } from '../cold/duckdbApi.js';
import { ArgumentError } from '../errors.js';
import { INT64_MAX, INT64_MIN } from '../hot/int64.js';


export interface DuckParams {
  values: DuckDBValue[];
  types: DuckDBType[];
}

/**
 * `integersAsBigint`: whole JS numbers bind as BIGINT (for user SQL, like
 * SQLite binds them); otherwise numbers bind as DOUBLE.
 */
export function toDuckParams(params: readonly unknown[], integersAsBigint: boolean): DuckParams {
  const values: DuckDBValue[] = [];
  const types: DuckDBType[] = [];
  params.forEach((v, i) => {
    if (v === null || v === undefined) {
      values.push(null);
      types.push(SQLNULL);
    } else if (typeof v === 'bigint') {
      values.push(v);
      types.push(v >= INT64_MIN && v <= INT64_MAX ? BIGINT : HUGEINT);
    } else if (typeof v === 'number') {
      if (Number.isNaN(v)) {
        throw new ArgumentError(`parameter ${i + 1}: NaN cannot be bound (SQLite reads it as NULL, DuckDB as a number above every other); pass a number or null`);
      }
      if (integersAsBigint && Number.isSafeInteger(v)) {
        values.push(BigInt(v));
        types.push(BIGINT);
      } else {
        values.push(v);
        types.push(DOUBLE);
      }
    } else if (typeof v === 'string') {
      values.push(v);
      types.push(VARCHAR);
    } else if (typeof v === 'boolean') {
      values.push(v);
      types.push(BOOLEAN);
    } else if (v instanceof Uint8Array) {
      values.push(new DuckDBBlobValue(v));
      types.push(BLOB);
    } else {
      throw new ArgumentError(`parameter ${i + 1}: cannot bind ${Object.prototype.toString.call(v)}; use bigint, number, string, boolean, Buffer or null`);
    }
  });
  return { values, types };
}
