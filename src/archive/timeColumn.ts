/**
 * Converts between a table's time column (unix seconds, unix ms or ISO-8601
 * UTC text) and unix milliseconds.
 */
import type { TimeUnit } from '../registry/defineRegistry.js';

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
    const text = LOCAL_LOOKING.test(value) ? `${value.replace(' ', 'T')}${value.length > 10 ? 'Z' : ''}` : value;
    return Date.parse(text);
  }
  if (typeof value !== 'bigint' && typeof value !== 'number') return NaN;
  const n = Number(value);
  return unit === 'unix_s' ? n * 1000 : n;
}
