/**
 * Turns one `where` value into the value both SQLite and DuckDB compare the
 * column with, so hot and cold agree: integers for INTEGER columns become
 * bigint (exact beyond 2^53), a Date on the time column becomes the column's unit,
 * and ISO text on an `iso` time column becomes the UTC form of its instant
 * (`2026-10-04T22:00:00-05:00` → `2026-10-05T03:00:00.000Z`).
 * A value of the wrong kind is an ArgumentError naming the column.
 */
import { ArgumentError } from '../errors.js';
import { isoInstantMs } from './isoInstantMs.js';
import type { ShapeColumn, TableShape } from './tableShape.js';
import { INT64_MAX, INT64_MIN } from '../hot/int64.js';


function describe(value: unknown): string {
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'bigint') return `bigint ${value}`;
  if (value instanceof Uint8Array) return `a ${value.length}-byte Buffer`;
  if (value instanceof Date) return `Date ${value.toISOString()}`;
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function dateForTimeColumn(shape: TableShape, date: Date, label: string): bigint | number | string {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new ArgumentError(`${label}: invalid Date`);
  if (shape.timeUnit === 'unix_ms') return BigInt(Math.trunc(ms));
  if (shape.timeUnit === 'unix_s') return ms % 1000 === 0 ? BigInt(ms / 1000) : ms / 1000;
  return date.toISOString();
}

function wrongKind(label: string, column: ShapeColumn, value: unknown, expected: string): ArgumentError {
  return new ArgumentError(`${label}: column ${column.name} holds ${expected}; got ${describe(value)}`);
}

/** `label` names the place in the query, e.g. `where.create_time.gt`. */
export function coerceWhereValue(shape: TableShape, column: ShapeColumn, value: unknown, label: string): unknown {
  if (value instanceof Date) {
    if (column.name !== shape.timeColumn) {
      throw new ArgumentError(`${label}: a Date is only accepted on the time column ${shape.timeColumn}, not on ${column.name}`);
    }
    return dateForTimeColumn(shape, value, label);
  }
  if (typeof value === 'number' && Number.isNaN(value)) {
    throw new ArgumentError(`${label}: NaN cannot be compared (SQLite reads it as NULL, DuckDB as a number above every other); pass a number or null`);
  }
  if (shape.timeUnit === 'iso' && column.name === shape.timeColumn && typeof value === 'string') {
    const ms = isoInstantMs(value);
    if (ms === null) {
      throw new ArgumentError(
        `${label}: ${describe(value)} is not an ISO-8601 time (e.g. 2026-01-05, 2026-01-05T12:00:00Z or 2026-01-05T07:00:00-05:00); ` +
          `${column.name} is compared as an instant`,
      );
    }
    return new Date(ms).toISOString();
  }
  switch (column.type) {
    case 'BIGINT':
      if (typeof value === 'bigint') {
        if (value < INT64_MIN || value > INT64_MAX) throw wrongKind(label, column, value, '64-bit INTEGER values');
        return value;
      }
      if (typeof value === 'number') {
        if (!Number.isFinite(value)) throw wrongKind(label, column, value, 'INTEGER values (a finite number or a bigint)');
        if (Number.isInteger(value)) {
          if (!Number.isSafeInteger(value)) throw new ArgumentError(`${label}: ${value} is beyond 2^53 and not exact; pass a bigint`);
          return BigInt(value);
        }
        return value;
      }
      throw wrongKind(label, column, value, 'INTEGER values (pass a number or a bigint)');
    case 'DOUBLE':
      if (typeof value === 'number' || typeof value === 'bigint') return value;
      throw wrongKind(label, column, value, 'REAL values (pass a number)');
    case 'VARCHAR':
      if (typeof value === 'string') return value;
      throw wrongKind(label, column, value, 'TEXT values (pass a string)');
    case 'BLOB':
      if (value instanceof Uint8Array) return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      throw wrongKind(label, column, value, 'BLOB values (pass a Buffer)');
    case undefined:
      if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
      if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'string') return value;
      if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      throw wrongKind(label, column, value, 'scalar values');
  }
}
