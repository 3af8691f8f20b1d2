/**
 * The hot table's keys inside a key range, read a page at a time (keyset
 * pagination, so no statement stays open while the caller awaits), with a
 * fingerprint that shows whether that set of keys changed since.
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { sqlIdent } from '../cold/DuckDbEngine.js';
import { keyText } from '../archive/chunkKeys.js';

export interface KeyRange {
  readonly min: unknown;
  readonly max: unknown;
}

const PAGE = 10_000;

/** The keys of `table` in [min, max], ascending in SQLite's order, exact (safeIntegers). */
export function* hotKeyPages(raw: Database.Database, table: string, keyColumn: string, range: KeyRange): Generator<unknown[]> {
  const k = sqlIdent(keyColumn);
  const first = raw.prepare(`SELECT ${k} FROM ${sqlIdent(table)} WHERE ${k} >= ? AND ${k} <= ? ORDER BY ${k} LIMIT ${PAGE}`).pluck().safeIntegers(true);
  const next = raw.prepare(`SELECT ${k} FROM ${sqlIdent(table)} WHERE ${k} > ? AND ${k} <= ? ORDER BY ${k} LIMIT ${PAGE}`).pluck().safeIntegers(true);
  let page = first.all(range.min, range.max) as unknown[];
  while (page.length > 0) {
    yield page;
    if (page.length < PAGE) return;
    page = next.all(page[page.length - 1], range.max) as unknown[];
  }
}

/** An order-sensitive digest of a sequence of keys (with their count). */
export class KeyFingerprint {
  readonly #hash = createHash('sha256');
  #count = 0;

  add(keys: readonly unknown[]): void {
    for (const key of keys) this.#hash.update(`${keyText(key)}\n`);
    this.#count += keys.length;
  }

  digest(): string {
    return `${this.#count}:${this.#hash.digest('hex')}`;
  }
}

/** The fingerprint of the hot keys in `range` now (inside a commit transaction: they cannot change meanwhile). */
export function hotKeysFingerprint(raw: Database.Database, table: string, keyColumn: string, range: KeyRange): string {
  const fp = new KeyFingerprint();
  for (const page of hotKeyPages(raw, table, keyColumn, range)) fp.add(page);
  return fp.digest();
}
