/**
 * A file's row fingerprint: how many rows, and the sum of DuckDB's
 * `hash(<every column, in the file's schema order>)` over them — order-free,
 * and any changed value shows. The archiver and rewriteFiles record it in the
 * footer (`tierdb.row_fingerprint`) of the files they write, tagged with the
 * DuckDB version whose `hash` made it, so that a later rewrite of files it
 * trusts (their sha256 checked against the manifest) adds their fingerprints
 * instead of decoding every value of every input again. A fingerprint of
 * another DuckDB version is not used (its `hash` may differ).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlIdent, sqlString } from './DuckDbEngine.js';

/** The footer key. */
export const ROW_FINGERPRINT_KEY = 'tierdb.row_fingerprint';

/** `hash(c1, c2, …)` of one row. */
export function rowHashSql(columns: readonly string[]): string {
  return `hash(${columns.map(sqlIdent).join(', ')})`;
}

/** `SELECT count(*), sum(row hash)` over `from` (a table name or a parenthesised query). */
export function fingerprintSql(columns: readonly string[], from: string): string {
  return `SELECT count(*), coalesce(sum(${rowHashSql(columns)}::HUGEINT), 0) FROM ${from}`;
}

/** The fingerprint as rewriteFiles compares it: `<count>:<sum>`. */
export function fingerprintText(count: unknown, sum: unknown): string {
  return `${String(count)}:${String(sum)}`;
}

const versions = new WeakMap<DuckDBConnection, Promise<string>>();

/** The DuckDB version `con` runs (asked once per connection). */
export function duckdbVersion(con: DuckDBConnection): Promise<string> {
  let v = versions.get(con);
  if (!v) {
    v = con.runAndReadAll('SELECT version()').then((r) => String(r.getRowsJS()[0]![0]));
    versions.set(con, v);
  }
  return v;
}

/** The footer value: `duckdb <version> <count>:<sum>`. */
export function footerFingerprint(version: string, fingerprint: string): string {
  return `duckdb ${version} ${fingerprint}`;
}

/**
 * The sum of the fingerprints recorded in `files`' footers (local paths), or
 * undefined when one has none or one made by another DuckDB version.
 */
export async function recordedFingerprint(con: DuckDBConnection, files: readonly string[]): Promise<string | undefined> {
  if (files.length === 0) return undefined;
  const version = await duckdbVersion(con);
  const rows = (
    await con.runAndReadAll(
      `SELECT file_name, decode(value) FROM parquet_kv_metadata([${files.map(sqlString).join(', ')}]) WHERE decode(key) = ${sqlString(ROW_FINGERPRINT_KEY)}`,
    )
  ).getRowsJS();
  const byFile = new Map(rows.map((r) => [String(r[0]), String(r[1])]));
  let count = 0n;
  let sum = 0n;
  for (const f of files) {
    const m = /^duckdb (\S+) (\d+):(-?\d+)$/.exec(byFile.get(f) ?? '');
    if (!m || m[1] !== version) return undefined;
    count += BigInt(m[2]!);
    sum += BigInt(m[3]!);
  }
  return fingerprintText(count, sum);
}
