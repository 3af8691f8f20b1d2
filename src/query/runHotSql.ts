/**
 * bridge.sql without DuckDB, when it can be: a statement that reads one
 * registered table (translateForSqlite's subset) and, under the read snapshot,
 * needs no cold file — the table has none, or the WHERE clause's lower bound on
 * the time column is newer than every listed file — runs on SQLite itself,
 * rewritten, inside the snapshot the manifest was read in. Nothing is copied,
 * so memory does not grow with the hot table.
 *
 * Undefined means "run it in DuckDB": not in the subset, a cold file needed, a
 * parameter of another type than its operand, a column declared with a
 * COLLATE (SQLite would compare by it, DuckDB does not), SQLite refusing or
 * failing the statement (an integer sum overflowing), or a value of another
 * type than DuckDB's copy would give (the copy then answers, or refuses it with
 * a MixedTypeError as before). Values come back as DuckDB returns them:
 * integers bigint (count, sum), reals number, text string, BLOB Buffer.
 */
import type Database from 'better-sqlite3';
import type { ColdType } from '../cold/columnTypes.js';
import { INT64_MAX, INT64_MIN } from '../hot/int64.js';
import { prepareCached } from '../hot/prepareCached.js';
import { valueToMs } from '../registry/timeUnit.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import { readShape } from './planQuery.js';
import type { Row } from './QueryOptions.js';
import type { SqlReferences } from './readSqlReferences.js';
import type { TableShape } from './tableShape.js';
import { translateForSqlite, type ResultKind, type SqliteTranslation } from './translateForSqlite.js';
import { withReadSnapshot } from './withReadSnapshot.js';

/** Translations per statement text, valid while the table's shape (schema and manifest version) is the same object. */
export type HotSqlCache = Map<string, { shape: TableShape; translation: SqliteTranslation | undefined }>;

const MAX_CACHED = 256;
const MISMATCH = Symbol('mismatch');
const TWO_53 = 2 ** 53;

const collations = new WeakMap<TableShape, boolean>();

/** Whether the table's CREATE statement declares a collation anywhere (then SQLite's comparisons are not DuckDB's). */
function declaresCollation(db: Database.Database, shape: TableShape): boolean {
  let has = collations.get(shape);
  if (has === undefined) {
    const sql = prepareCached(db, `SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?`).pluck().get(shape.table) as string | null | undefined;
    has = typeof sql !== 'string' || /collate/i.test(sql);
    collations.set(shape, has);
  }
  return has;
}

/** A bridge.sql parameter as SQLite must see it to compare as DuckDB does (DuckDB binds whole numbers as BIGINT). */
function bindParam(v: unknown, type: ColdType): unknown {
  if (v === null || v === undefined) return null;
  if (type === 'VARCHAR') return typeof v === 'string' ? v : MISMATCH;
  if (typeof v === 'bigint') {
    if (type === 'BIGINT') return v >= INT64_MIN && v <= INT64_MAX ? v : MISMATCH;
    return v >= -TWO_53 && v <= TWO_53 ? v : MISMATCH;
  }
  if (typeof v === 'number' && Number.isFinite(v) && Math.abs(v) < TWO_53) {
    return type === 'BIGINT' && Number.isInteger(v) ? BigInt(v) : v;
  }
  return MISMATCH;
}

function resultValue(v: unknown, kind: ResultKind): unknown {
  if (v === null || v === undefined) return null;
  switch (kind) {
    case 'BIGINT':
      if (typeof v === 'bigint') return v;
      return typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : MISMATCH;
    case 'DOUBLE':
      if (typeof v === 'number') return v;
      return typeof v === 'bigint' ? Number(v) : MISMATCH;
    case 'VARCHAR':
      return typeof v === 'string' ? v : MISMATCH;
    case 'BLOB':
      return v instanceof Uint8Array ? (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)) : MISMATCH;
    case 'UNTYPED':
      return typeof v === 'string' ? v : resultValue(v, 'BLOB');
  }
}

/** The lowest time the statement can match, in ms (-Infinity when unbounded). */
function lowerBoundMs(translation: SqliteTranslation, shape: TableShape, params: readonly unknown[]): number {
  if (shape.timeUnit === 'iso') return -Infinity;
  let lo = -Infinity;
  for (const b of translation.timeLowerBounds) {
    const ms = valueToMs('param' in b ? params[b.param] : b.value, shape.timeUnit);
    if (Number.isFinite(ms) && ms > lo) lo = ms;
  }
  return lo;
}

export function runHotSql(
  db: Database.Database,
  tables: ReadonlyMap<string, ResolvedTable>,
  refs: SqlReferences,
  params: readonly unknown[],
  cache: HotSqlCache,
  text: string,
): Row[] | undefined {
  if (refs.tables.length !== 1 || refs.statement === undefined) return undefined;
  const t = tables.get(refs.tables[0]!)!;
  return withReadSnapshot(db, () => {
    const { shape, files } = readShape(db, t);
    let hit = cache.get(text);
    if (!hit || hit.shape !== shape) {
      const translation = declaresCollation(db, shape) ? undefined : translateForSqlite(refs.statement, new Map([[shape.table.toLowerCase(), shape]]));
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(text, (hit = { shape, translation }));
    }
    const translation = hit.translation;
    if (!translation || translation.paramTypes.length !== params.length) return undefined;
    const bound: unknown[] = [];
    for (const i of translation.paramOrder) {
      const v = bindParam(params[i], translation.paramTypes[i]!);
      if (v === MISMATCH) return undefined;
      bound.push(v);
    }
    if (files.length > 0) {
      const lo = lowerBoundMs(translation, shape, params);
      if (files.some((f) => f.maxTimeMs >= lo)) return undefined;
    }
    let rows: unknown[][];
    try {
      rows = prepareCached(db, translation.sql).raw(true).safeIntegers(true).all(...bound) as unknown[][];
    } catch {
      return undefined;
    }
    const { columns } = translation;
    // An untyped column's values must all be of one class, as DuckDB's copy holds them.
    const untypedClass: (string | undefined)[] = columns.map(() => undefined);
    const out: Row[] = new Array(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      const obj: Row = {};
      for (let c = 0; c < columns.length; c++) {
        const kind = columns[c]!.kind;
        const v = resultValue(row[c], kind);
        if (v === MISMATCH) return undefined;
        if (kind === 'UNTYPED' && v !== null) {
          const cls = typeof v;
          if (untypedClass[c] === undefined) untypedClass[c] = cls;
          else if (untypedClass[c] !== cls) return undefined;
        }
        obj[columns[c]!.name] = v;
      }
      out[r] = obj;
    }
    return out;
  });
}
