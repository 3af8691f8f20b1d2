/**
 * The better-sqlite3 handle that `store.hot.db` (drizzle) runs on: the same
 * connection (so drizzle and `store.hot.raw` share transactions), but every
 * statement reads with safe integers, and an INTEGER within ±(2^53 − 1) is
 * handed over as a number. So drizzle's own `integer()` columns keep their JS
 * numbers, `int64()` columns get the exact value beyond 2^53, and no value is
 * ever silently rounded: one beyond 2^53 arrives as a bigint, whatever the column.
 */
import type Database from 'better-sqlite3';

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const MIN = -MAX;

function narrow(value: unknown): unknown {
  if (typeof value === 'bigint') return value >= MIN && value <= MAX ? Number(value) : value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = narrow(value[i]);
    return value;
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const row = value as Record<string, unknown>;
    for (const key of Object.keys(row)) row[key] = narrow(row[key]);
  }
  return value;
}

/** Modes that return the statement: they must return the wrapper, not the bare statement. */
const CHAINING = new Set<PropertyKey>(['pluck', 'expand', 'raw', 'safeIntegers', 'bind']);

function wrapStatement(stmt: Database.Statement): Database.Statement {
  if (stmt.reader) stmt.safeIntegers(true);
  const wrapper: Database.Statement = new Proxy(stmt, {
    get(target, prop) {
      if (prop === 'all') return (...args: unknown[]) => (target.all(...args) as unknown[]).map(narrow);
      if (prop === 'get') return (...args: unknown[]) => narrow(target.get(...args));
      if (prop === 'iterate') {
        return function* (...args: unknown[]) {
          for (const row of target.iterate(...args)) yield narrow(row);
        };
      }
      if (CHAINING.has(prop)) {
        return (...args: unknown[]) => {
          (target[prop as 'pluck'] as (...a: unknown[]) => unknown)(...args);
          return wrapper;
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return wrapper;
}

/** `raw` with safe-integer reads on every statement it prepares (see the file comment). */
export function safeIntegerClient(raw: Database.Database): Database.Database {
  return new Proxy(raw, {
    get(target, prop) {
      if (prop === 'prepare') return (source: string) => wrapStatement(target.prepare(source));
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
