/**
 * The hot keys that fall inside some listed cold file's key range: the only
 * keys that can be both hot and cold (a restored or re-ingested row). The
 * bridge drops cold rows with these keys, so the hot row wins. Read inside the
 * snapshot, through the key index.
 */
import type Database from 'better-sqlite3';
import { sqlIdent } from '../cold/DuckDbEngine.js';
import { compareSqlValues } from '../hot/compareSqlValues.js';
import { prepareCached } from '../hot/prepareCached.js';
import type { LiveFile } from './readLiveFiles.js';
import type { TableShape } from './tableShape.js';

interface KeySpan {
  lo: unknown;
  hi: unknown;
}

/** Merges the files' key ranges; undefined when some range cannot be compared (then every hot key counts). */
function mergedSpans(files: readonly LiveFile[]): KeySpan[] | undefined {
  const spans: KeySpan[] = [];
  for (const f of files) {
    if (f.minKey === null || f.maxKey === null || compareSqlValues(f.minKey, f.maxKey) === undefined) return undefined;
    spans.push({ lo: f.minKey, hi: f.maxKey });
  }
  try {
    spans.sort((a, b) => {
      const c = compareSqlValues(a.lo, b.lo);
      if (c === undefined) throw new Error('incomparable');
      return c;
    });
  } catch {
    return undefined;
  }
  const merged: KeySpan[] = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    const c = last ? compareSqlValues(s.lo, last.hi) : undefined;
    if (last && c === undefined) return undefined;
    if (last && c! <= 0) {
      if ((compareSqlValues(s.hi, last.hi) ?? 0) > 0) last.hi = s.hi;
    } else merged.push({ ...s });
  }
  return merged;
}

export function readOverlapKeys(db: Database.Database, shape: TableShape, files: readonly LiveFile[]): unknown[] {
  if (files.length === 0) return [];
  const key = sqlIdent(shape.keyColumn);
  const from = sqlIdent(shape.table);
  const spans = mergedSpans(files);
  if (spans === undefined) return prepareCached(db, `SELECT ${key} FROM ${from}`).pluck().safeIntegers(true).all();
  const stmt = prepareCached(db, `SELECT ${key} FROM ${from} WHERE ${key} >= ? AND ${key} <= ?`).pluck().safeIntegers(true);
  const keys: unknown[] = [];
  for (const s of spans) for (const k of stmt.iterate(s.lo, s.hi)) keys.push(k);
  return keys;
}
