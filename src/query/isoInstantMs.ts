/**
 * tierdb compares ISO time columns (`timeUnit: 'iso'`) as instants, the same
 * in JS (the planner), in SQLite (hot) and in DuckDB (cold):
 *
 * - JS: `isoInstantMs`, text that starts with `YYYY-MM-DD` and that
 *   `valueToMs` reads (no offset means UTC), to unix ms; anything else is no
 *   instant and never matches a comparison;
 * - SQLite: the same function, registered on the bridge's connection as
 *   `tierdb_iso_ms(text)`;
 * - DuckDB: `epoch_ms(TRY_CAST(col AS TIMESTAMPTZ))`, with the bridge's
 *   TimeZone fixed to UTC. Cold files hold only UTC text (the archiver moves
 *   no other offset), where both agree.
 *
 * Comparisons also keep a text range on the column, widened by a day below and
 * two above (an offset is less than a day), so SQLite's index and Parquet's
 * min/max statistics still narrow the scan.
 */
import type Database from 'better-sqlite3';
import { DAY_MS, valueToMs } from '../registry/timeUnit.js';

export const ISO_INSTANT_SQLITE = 'tierdb_iso_ms';

const ISO_PREFIX = /^\d{4}-\d\d-\d\d/;

export function isoInstantMs(value: unknown): number | null {
  if (typeof value !== 'string' || !ISO_PREFIX.test(value)) return null;
  const ms = valueToMs(value, 'iso');
  return Number.isFinite(ms) ? Math.trunc(ms) : null;
}

const registered = new WeakSet<Database.Database>();

/** Registers `tierdb_iso_ms` on a connection (once). */
export function registerIsoInstant(db: Database.Database): void {
  if (registered.has(db)) return;
  db.function(ISO_INSTANT_SQLITE, { deterministic: true }, (value: unknown) => isoInstantMs(value));
  registered.add(db);
}

/** The instant expression of a column in one dialect (NULL when the text is no ISO time). */
export function isoInstantSql(column: string, dialect: 'sqlite' | 'duckdb'): string {
  return dialect === 'sqlite' ? `${ISO_INSTANT_SQLITE}(${column})` : `epoch_ms(TRY_CAST(${column} AS TIMESTAMPTZ))`;
}

/** Text bounds `[lo, hi)` that hold every ISO text whose instant lies in [loMs, hiMs]. */
export function isoTextWindow(loMs: number | undefined, hiMs: number | undefined): { lo?: string; hi?: string } {
  // Outside years 0000–9999 the text no longer sorts by date: no bound then.
  const day = (ms: number | undefined) => {
    const text = ms === undefined || !Number.isFinite(new Date(ms).getTime()) ? '' : new Date(ms).toISOString().slice(0, 10);
    return /^\d{4}-\d\d-\d\d$/.test(text) ? text : undefined;
  };
  const lo = day(loMs === undefined ? undefined : loMs - DAY_MS);
  const hi = day(hiMs === undefined ? undefined : hiMs + 2 * DAY_MS);
  return { ...(lo === undefined ? {} : { lo }), ...(hi === undefined ? {} : { hi }) };
}
