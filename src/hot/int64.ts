/**
 * A drizzle column type for 64-bit INTEGERs (a WeChat msg_id exceeds 2^53):
 * always a bigint in JS, exact. `store.hot.db` reads with safe integers (see
 * safeIntegerClient), so the value reaches `fromDriver` exact: a number when
 * within ±2^53, else a bigint. Over a plain better-sqlite3 connection a value
 * beyond 2^53 arrives already rounded: that read throws instead of returning a
 * wrong id.
 *
 * @example
 * export const events = sqliteTable('events', { id: int64('id').primaryKey(), ... });
 */
import { customType } from 'drizzle-orm/sqlite-core';
import { TierError } from '../errors.js';

/** SQLite's INTEGER range. */
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

export const int64 = customType<{ data: bigint; driverData: bigint | number }>({
  dataType: () => 'integer',
  toDriver: (value) => value,
  fromDriver: (value) => {
    if (typeof value === 'bigint') return value;
    if (!Number.isSafeInteger(value)) {
      throw new TierError(
        'TIERDB_INT64_LOSSY',
        `a 64-bit integer (${value}) reached drizzle already rounded to a JS number: query through store.hot.db (safe integers), or read it with store.hot.raw and safeIntegers(true)`,
      );
    }
    return BigInt(value);
  },
});
