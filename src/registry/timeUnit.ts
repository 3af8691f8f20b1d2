/**
 * Converts between a table's time column (unix seconds, unix ms or ISO-8601
 * UTC text) and unix milliseconds.
 */
import type { TimeUnit } from './defineRegistry.js';

export const DAY_MS = 86_400_000;

/** The column value to compare against for a partition boundary (always UTC midnight). */
export function boundForColumn(ms: number, unit: TimeUnit): number | string {
  if (unit === 'unix_s') return Math.floor(ms / 1000);
  if (unit === 'unix_ms') return ms;
  // ISO text compares lexicographically: every '2026-01-05T…' and '2026-01-05 …' sorts at or after '2026-01-05'.
  return new Date(ms).toISOString().slice(0, 10);
}

const LOCAL_LOOKING = /^\d{4}-\d\d-\d\d([ T]\d\d:\d\d(:\d\d(\.\d+)?)?)?$/;

/** A column value as unix ms; NaN when it is not a time in that unit. */
export function valueToMs(value: unknown, unit: TimeUnit): number {
  if (value === null || value === undefined) return NaN;
  if (unit === 'iso') {
    if (typeof value !== 'string') return NaN;
    // Timestamps without an offset are UTC here, never local time.
    const text = /^\d{4}-\d\d-\d\d \d/.test(value) ? value.replace(' ', 'T') : value;
    return Date.parse(LOCAL_LOOKING.test(text) && text.length > 10 ? `${text}Z` : text);
  }
  if (typeof value !== 'bigint' && typeof value !== 'number') return NaN;
  const n = Number(value);
  return unit === 'unix_s' ? n * 1000 : n;
}

/** ISO text in UTC: a date, optionally a time, optionally `Z` or a zero offset. Nothing else is archived. */
const CANONICAL_UTC_ISO = /^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]00:?00)?)?$/;

/**
 * Whether an `iso` column value names an instant unambiguously in UTC, so that
 * its text order, its date prefix and its instant all agree. Values with
 * another offset (`+08:00`) are refused by the archiver and stay hot.
 */
export function isCanonicalUtcIso(value: unknown): value is string {
  return typeof value === 'string' && CANONICAL_UTC_ISO.test(value) && !Number.isNaN(isoDatePrefixMs(value)) && !Number.isNaN(valueToMs(value, 'iso'));
}

/** The UTC midnight of an ISO text's `YYYY-MM-DD` prefix; NaN when it has none. */
export function isoDatePrefixMs(value: string): number {
  const m = /^(\d{4})-(\d\d)-(\d\d)/.exec(value);
  if (!m) return NaN;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(ms).toISOString().slice(0, 10) === value.slice(0, 10) ? ms : NaN;
}
