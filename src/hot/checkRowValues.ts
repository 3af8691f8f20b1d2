/**
 * Checks one row for `store.hot.append` against the table's declared columns,
 * so what is stored is exactly what was given and the archiver can move it:
 * INTEGER takes safe integer numbers and bigints within 64 bits (bound as
 * 64-bit integers, exact beyond 2^53), REAL takes numbers (not NaN, which
 * SQLite would store as NULL), TEXT takes well-formed strings (a lone
 * surrogate would be stored as U+FFFD), a BLOB column takes Buffer/Uint8Array,
 * NUMERIC takes numbers, bigints and strings, an untyped column any of these
 * (integers are stored as INTEGER there, other numbers as REAL).
 * NOT NULL columns without a default are required; unknown columns are refused.
 */
import type { ColdKey } from '../cold/coldKeyCandidates.js';
import { sqliteAffinity, type SqliteAffinity } from './sqliteAffinity.js';
import { INT64_MAX, INT64_MIN } from './int64.js';


export interface AppendColumn {
  readonly name: string;
  /** SQLite's affinity; ANY for an untyped column (BLOB affinity, but it takes every class). */
  readonly affinity: SqliteAffinity | 'ANY';
  /** NOT NULL without a DEFAULT: a row must give it. */
  readonly required: boolean;
  readonly notNull: boolean;
  /** A generated column: SQLite computes it, a row cannot give it. */
  readonly generated: boolean;
}

export interface AppendTableShape {
  readonly table: string;
  readonly columns: ReadonlyMap<string, AppendColumn>;
  readonly keyColumn: string;
  /** The key is the rowid (INTEGER PRIMARY KEY): SQLite assigns it when a row leaves it out. */
  readonly keyIsRowid: boolean;
}

export type CheckedRow =
  | { ok: true; names: string[]; values: unknown[]; key: ColdKey | undefined }
  | { ok: false; reason: string };

export function toAppendColumn(c: { name: string; type: string; notnull: number; dflt_value: unknown; hidden: number }): AppendColumn {
  return {
    name: c.name,
    affinity: c.type.trim() === '' ? 'ANY' : sqliteAffinity(c.type),
    notNull: c.notnull === 1,
    required: c.notnull === 1 && c.dflt_value === null,
    generated: c.hidden === 2 || c.hidden === 3,
  };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
  if (typeof value === 'bigint') return `a bigint (${value}n)`;
  if (typeof value === 'number' || typeof value === 'boolean') return `a ${typeof value} (${String(value)})`;
  if (value instanceof Uint8Array) return `a ${value.constructor.name} of ${value.length} bytes`;
  if (value instanceof Date) return 'a Date (store its time as a number or ISO text)';
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return `a ${typeof value}`;
}

const integerOf = (value: unknown): bigint | string | undefined => {
  if (typeof value === 'bigint') return value >= INT64_MIN && value <= INT64_MAX ? value : `${value} is outside the 64-bit range`;
  if (typeof value === 'number' && Number.isInteger(value)) {
    return Number.isSafeInteger(value) ? BigInt(value) : `${value} is beyond 2^53 and already lost precision (pass it as a bigint)`;
  }
  return undefined;
};

/** The value to bind, or the reason it does not fit the column. */
function fit(column: AppendColumn, value: unknown): { ok: true; value: unknown } | { ok: false; reason: string } {
  const refuse = (expected: string) => ({ ok: false as const, reason: `${column.name} (${column.affinity}): expected ${expected}, got ${describe(value)}` });
  if (typeof value === 'string' && !(value as string & { isWellFormed(): boolean }).isWellFormed()) {
    return { ok: false, reason: `${column.name}: holds a lone surrogate, which is not valid Unicode text and cannot be stored exactly` };
  }
  if (typeof value === 'number' && Number.isNaN(value)) return { ok: false, reason: `${column.name}: NaN cannot be stored (SQLite would store NULL)` };
  const bytes = value instanceof Uint8Array ? (Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)) : undefined;
  if (column.affinity === 'REAL') return typeof value === 'number' ? { ok: true, value } : refuse('a number');
  if (column.affinity === 'TEXT') return typeof value === 'string' ? { ok: true, value } : refuse('a string');
  if (column.affinity === 'BLOB') return bytes ? { ok: true, value: bytes } : refuse('a Buffer or Uint8Array');
  const integer = integerOf(value);
  if (typeof integer === 'string') return { ok: false, reason: `${column.name}: ${integer}` };
  if (column.affinity === 'INTEGER') {
    return integer === undefined ? refuse('an integer (a safe integer number, or a bigint within 64 bits)') : { ok: true, value: integer };
  }
  // NUMERIC, or an untyped column (ANY): an integer is stored as INTEGER, other numbers as REAL.
  if (integer !== undefined) return { ok: true, value: integer };
  if (typeof value === 'number' || typeof value === 'string') return { ok: true, value };
  if (bytes && column.affinity === 'ANY') return { ok: true, value: bytes };
  return refuse(column.affinity === 'ANY' ? 'a number, bigint, string or Buffer' : 'a number, bigint or string');
}

const isRow = (v: unknown): v is Record<string, unknown> => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

/** Checks one row; the values come back in the order of `names`, ready to bind. */
export function checkRowValues(row: unknown, shape: AppendTableShape): CheckedRow {
  if (!isRow(row)) return { ok: false, reason: `expected a plain object of column values, got ${describe(row)}` };
  const names: string[] = [];
  const values: unknown[] = [];
  const problems: string[] = [];
  const unknown: string[] = [];
  let key: ColdKey | undefined;
  for (const name of Object.keys(row)) {
    const value = row[name];
    if (value === undefined) continue;
    const column = shape.columns.get(name);
    if (!column) {
      unknown.push(name);
      continue;
    }
    if (column.generated) {
      problems.push(`${name}: is a generated column; SQLite computes it`);
      continue;
    }
    if (value === null) {
      if (column.notNull) problems.push(`${name}: is NOT NULL, got null`);
      else if (name === shape.keyColumn) problems.push(`${name}: is the key column, got null`);
      else {
        names.push(name);
        values.push(null);
      }
      continue;
    }
    const checked = fit(column, value);
    if (!checked.ok) {
      problems.push(checked.reason);
      continue;
    }
    if (name === shape.keyColumn) {
      if (typeof checked.value === 'bigint' || typeof checked.value === 'string') key = checked.value;
      else problems.push(`${name}: the key column takes integers or text, got ${describe(value)}`);
    }
    names.push(name);
    values.push(checked.value);
  }
  if (unknown.length > 0) problems.unshift(`unknown column(s) ${unknown.join(', ')} (${shape.table} has ${[...shape.columns.keys()].join(', ')})`);
  for (const column of shape.columns.values()) {
    if (row[column.name] !== undefined) continue;
    if (column.required) problems.push(`${column.name}: is required (NOT NULL without a default)`);
    else if (column.name === shape.keyColumn && !shape.keyIsRowid) problems.push(`${column.name}: is required (the key column)`);
  }
  if (problems.length > 0) return { ok: false, reason: problems.join('; ') };
  return { ok: true, names, values, key };
}
