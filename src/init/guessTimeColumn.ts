/**
 * Which column of a table could age its rows, and in which unit: from the
 * column's name, its declared type and a sample of its values. Pure: the
 * sampling happens in inspectDatabase.
 */
import { isCanonicalUtcIso, isoDatePrefixMs, valueToMs } from '../registry/timeUnit.js';
import type { TimeUnit } from '../registry/defineRegistry.js';
import type { ColumnInfo } from '../registry/resolveRegistry.js';

/** Plausible times: 2000-01-01 ≤ t < 2100-01-01 (UTC). A value outside is taken for something else. */
export const PLAUSIBLE_FROM_MS = Date.UTC(2000, 0, 1);
export const PLAUSIBLE_UNTIL_MS = Date.UTC(2100, 0, 1);
/** A column is suggested when at least this share of its sampled non-NULL values are times in one unit. */
export const MIN_TIME_SHARE = 0.9;

export type Confidence = 'high' | 'medium' | 'low';

export interface TimeCandidate {
  column: string;
  unit: TimeUnit;
  /** Sampled non-NULL values. */
  sampled: number;
  /** Of those, values that are a plausible time in `unit` (for `iso`: UTC text by tierdb's rules). */
  matched: number;
  /** `iso` only: values that are times but carry another offset than UTC; tierdb keeps such rows hot. */
  offsets: number;
  offsetExample?: string;
  /** Sampled values that are no time in `unit` (besides offsets), and one of them. */
  misses: number;
  missExample?: string;
  /** matched / sampled, 0..1 (0 when nothing was sampled). */
  share: number;
  confidence: Confidence;
  /** Why this column looked like a time: `name`, `declared type DATETIME`… */
  hints: string[];
}

/** Names that say "when the row was made": the best way to age a row. */
const CREATED_NAME = /^(created|inserted|create|insert|added)(_?(at|on|time|ts|date|datetime|timestamp))?$|^(ctime|create_?time|created_?time)$/i;
/** Names that say "a time" of some kind. */
const TIME_NAME = /(^|_)(ts|time|timestamp|date|datetime|at|on)$|^(ts|timestamp|time|date|datetime|when|occurred|logged|sent|received|event_?time)/i;
/** Names of times that move on after the row was made: rows would age by their last change. */
const UPDATED_NAME = /(updated|modified|changed|touched|mtime|last_?seen|deleted|expires?|due)/i;

/** 0 none, 1 updated-like, 2 a time, 3 created-like. Higher is a better way to age rows. */
export function timeNameRank(name: string): number {
  if (CREATED_NAME.test(name)) return 3;
  if (UPDATED_NAME.test(name)) return 1;
  if (TIME_NAME.test(name)) return 2;
  return 0;
}

function declaredTimeType(declared: string): boolean {
  return /DATE|TIME/i.test(declared);
}

const ISO_PREFIX = /^\d{4}-\d\d-\d\d/;
/** A time of day followed by an offset: `…T12:00:00+08:00`, `… 12:00-0500`. */
const OFFSET = /\d\d:\d\d(:\d\d(\.\d+)?)?[+-]\d\d(:?\d\d)?$/;

function plausible(ms: number): boolean {
  return !Number.isNaN(ms) && ms >= PLAUSIBLE_FROM_MS && ms < PLAUSIBLE_UNTIL_MS;
}

/** Counts how many of `values` (non-NULL) are plausible times in `unit`. */
export function scoreValues(values: readonly unknown[], unit: TimeUnit): Pick<TimeCandidate, 'sampled' | 'matched' | 'offsets' | 'offsetExample' | 'misses' | 'missExample' | 'share'> {
  let matched = 0;
  let offsets = 0;
  let offsetExample: string | undefined;
  let missExample: string | undefined;
  for (const v of values) {
    let ok = false;
    if (unit === 'iso') {
      if (typeof v === 'string' && ISO_PREFIX.test(v) && plausible(valueToMs(v, 'iso'))) {
        if (isCanonicalUtcIso(v)) ok = true;
        else if (OFFSET.test(v) && !Number.isNaN(isoDatePrefixMs(v))) {
          offsets++;
          offsetExample ??= v;
          continue;
        }
      }
    } else if (typeof v === 'bigint' || typeof v === 'number') {
      ok = plausible(valueToMs(v, unit));
    }
    if (ok) matched++;
    else missExample ??= typeof v === 'string' ? v : Buffer.isBuffer(v) ? `x'${v.toString('hex').slice(0, 16)}'` : String(v);
  }
  const sampled = values.length;
  const result: ReturnType<typeof scoreValues> = { sampled, matched, offsets, misses: sampled - matched - offsets, share: sampled === 0 ? 0 : matched / sampled };
  if (offsetExample !== undefined) result.offsetExample = offsetExample;
  if (missExample !== undefined) result.missExample = missExample;
  return result;
}

function confidenceOf(share: number, hinted: boolean): Confidence {
  if (share >= 0.99 && hinted) return 'high';
  if (share >= MIN_TIME_SHARE) return hinted || share >= 0.99 ? 'medium' : 'low';
  return 'low';
}

/**
 * Every column that could be a time column, best first: for each column the
 * unit its sampled values fit best. A column is listed when its values fit a
 * unit or its name or declared type says "time"; `samples` maps a column to
 * its sampled non-NULL values.
 */
export function guessTimeColumns(columns: readonly ColumnInfo[], samples: ReadonlyMap<string, readonly unknown[]>): TimeCandidate[] {
  const found: TimeCandidate[] = [];
  for (const c of columns) {
    const values = samples.get(c.name) ?? [];
    const hints: string[] = [];
    if (timeNameRank(c.name) > 0) hints.push('name');
    if (declaredTimeType(c.declaredType)) hints.push(`declared type ${c.declaredType}`);
    const scored = (['unix_s', 'unix_ms', 'iso'] as const).map((unit) => ({ unit, ...scoreValues(values, unit) }));
    // Offsets count toward the unit: an ISO column with a few +08:00 values is still an ISO column (the offsets are reported).
    const best = scored.reduce((a, b) => (b.matched + b.offsets > a.matched + a.offsets ? b : a));
    if (best.matched + best.offsets === 0 && hints.length === 0) continue;
    const unit = best.matched + best.offsets > 0 ? best.unit : declaredTimeType(c.declaredType) || /TEXT|CHAR/i.test(c.declaredType) ? 'iso' : 'unix_s';
    const chosen = scored.find((s) => s.unit === unit)!;
    found.push({ column: c.name, ...chosen, confidence: confidenceOf(chosen.share, hints.length > 0), hints });
  }
  return found.sort((a, b) => rank(b) - rank(a));
}

/** Whether a candidate is good enough to age rows by (most sampled values are times in its unit). */
export function usableTimeColumn(c: TimeCandidate): boolean {
  return c.sampled > 0 && (c.matched + c.offsets) / c.sampled >= MIN_TIME_SHARE;
}

function rank(c: TimeCandidate): number {
  // Usable first; then created-like names over plain time names over updated-like; then the share of values that fit.
  return (usableTimeColumn(c) ? 10 : 0) + timeNameRank(c.column) * 2 + (c.hints.some((h) => h.startsWith('declared')) ? 1 : 0) + c.share;
}
