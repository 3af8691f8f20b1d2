/**
 * Keys that exist twice across tiers or files (for `tierdb validate`): the
 * same key in two live cold files of a table (or twice in one), which readers
 * then return twice, and the same key hot and in a live file, where the hot
 * row shadows a stale cold copy. Rows a delete marker hides do not count, nor
 * rows of a draining file after its drained prefix (still hot: readers take them from the hot table)
 * (an updated row is hot, its masked cold copy is not a duplicate). The keys are gathered in DuckDB (which
 * bounds its memory and spills), never in JS; hot keys are read with
 * safeIntegers, so 64-bit keys compare exactly.
 */
import { keyForColumn } from '../cold/markedRows.js';
import type Database from 'better-sqlite3';
import type { ColdType } from '../cold/columnTypes.js';
import { sqlIdent, sqlString, type DuckDbEngine, readColdParquet } from '../cold/DuckDbEngine.js';
import { appendRows } from '../query/appendRows.js';

/** One kind of duplicate in one table. */
export interface DuplicateKeys {
  table: string;
  keyColumn: string;
  /** `cold`: in two live files (or twice in one file); `hot-and-cold`: a hot row and a live file. */
  kind: 'cold' | 'hot-and-cold';
  /** How many distinct keys are duplicated. */
  count: number;
  /** A few of them, as text (64-bit integers with every digit). */
  examples: string[];
  /** The live files (absolute paths) holding them. */
  files: string[];
}

const EXAMPLES = 5;
const MAX_FILES_NAMED = 50;
const HOT_BATCH = 10_000;

/** The DuckDB type a key column was read as, as one of the appender's types. */
function coldTypeOf(duckType: string): ColdType {
  const t = duckType.toUpperCase();
  if (/INT/.test(t)) return 'BIGINT';
  if (t === 'DOUBLE' || t === 'FLOAT' || t.startsWith('DECIMAL')) return 'DOUBLE';
  if (t === 'BLOB') return 'BLOB';
  return 'VARCHAR';
}

/**
 * The duplicate keys of one table among `files` (live files that passed their
 * checks, absolute paths) and between them and the hot table, whose key rows
 * in [minKey, maxKey] (the files' overall key range) are compared.
 */
export async function findDuplicateKeys(
  raw: Database.Database,
  engine: DuckDbEngine,
  table: string,
  keyColumn: string,
  files: readonly string[],
  keyRange: { min: unknown; max: unknown },
  /** Per file (same index as `files`), the keys its delete markers hide: those rows do not count. */
  marked: readonly (readonly unknown[])[] = [],
  /**
   * Per file, its drained prefix (`drained_rows`): of a file still draining only the rows before it
   * count, the others are still hot and not read from the file (null or absent: every row).
   */
  drained: readonly (number | null)[] = [],
): Promise<DuplicateKeys[]> {
  if (files.length === 0) return [];
  const con = engine.connection;
  const k = sqlIdent(keyColumn);
  const out: DuplicateKeys[] = [];
  await con.run('CREATE OR REPLACE TEMP TABLE __vfiles (f INTEGER, path VARCHAR)');
  await con.run(`INSERT INTO __vfiles VALUES ${files.map((p, i) => `(${i}, ${sqlString(p)})`).join(', ')}`);
  try {
    for (const [i, p] of files.entries()) {
      const prefix = drained[i] ?? null;
      const select =
        prefix === null
          ? `SELECT ${k} AS k, ${i}::INTEGER AS f FROM ${readColdParquet(p)}`
          : `SELECT ${k} AS k, ${i}::INTEGER AS f FROM ${readColdParquet(p, 'file_row_number = true')} WHERE file_row_number < ${prefix}`;
      await con.run(i === 0 ? `CREATE OR REPLACE TEMP TABLE __vkeys AS ${select}` : `INSERT INTO __vkeys ${select}`);
    }
    const keyType = coldTypeOf(String((await con.runAndReadAll(`SELECT data_type FROM duckdb_columns() WHERE table_name = '__vkeys' AND column_name = 'k'`)).getRows()[0]?.[0] ?? 'VARCHAR'));
    const marks = marked.flatMap((keys, f) => keys.map((key) => [BigInt(f), keyForColumn(keyType, key)]));
    if (marks.length > 0) {
      await con.run(`CREATE OR REPLACE TEMP TABLE __vmarks (f INTEGER, k ${keyType})`);
      await appendRows(con, '__vmarks', ['BIGINT', keyType], marks);
      await con.run('DELETE FROM __vkeys WHERE (f, k) IN (SELECT f, k FROM __vmarks)');
      await con.run('DROP TABLE __vmarks');
    }

    const cold = await describe(con, 'SELECT k FROM __vkeys GROUP BY k HAVING count(*) > 1');
    if (cold) out.push({ table, keyColumn, kind: 'cold', ...cold });

    await con.run(`CREATE OR REPLACE TEMP TABLE __vhot (k ${keyType})`);
    if (keyRange.min !== null && keyRange.max !== null) {
      let hotKeys: Iterable<unknown>;
      try {
        hotKeys = raw
          .prepare(`SELECT ${k} FROM ${sqlIdent(table)} WHERE ${k} >= ? AND ${k} <= ?`)
          .pluck()
          .safeIntegers(true)
          .iterate(keyRange.min, keyRange.max);
      } catch {
        hotKeys = []; // no such hot table (or key column) any more: nothing hot to compare
      }
      let batch: unknown[][] = [];
      for (const key of hotKeys) {
        batch.push([key]);
        if (batch.length >= HOT_BATCH) {
          await appendRows(con, '__vhot', [keyType], batch);
          batch = [];
        }
      }
      await appendRows(con, '__vhot', [keyType], batch);
    }
    const both = await describe(con, 'SELECT DISTINCT k FROM __vhot WHERE k IN (SELECT k FROM __vkeys)');
    if (both) out.push({ table, keyColumn, kind: 'hot-and-cold', ...both });
  } finally {
    await con.run('DROP TABLE IF EXISTS __vkeys; DROP TABLE IF EXISTS __vhot; DROP TABLE IF EXISTS __vfiles');
  }
  return out;
}

/** Count, examples and files of the duplicated keys `dupSql` selects (column k); undefined when none. */
async function describe(
  con: DuckDbEngine['connection'],
  dupSql: string,
): Promise<Pick<DuplicateKeys, 'count' | 'examples' | 'files'> | undefined> {
  await con.run(`CREATE OR REPLACE TEMP TABLE __vdup AS ${dupSql}`);
  try {
    const count = Number((await con.runAndReadAll('SELECT count(*) FROM __vdup')).getRowsJS()[0]![0]);
    if (count === 0) return undefined;
    const examples = (await con.runAndReadAll(`SELECT k FROM __vdup ORDER BY k LIMIT ${EXAMPLES}`)).getRowsJS().map((r) => String(r[0]));
    const files = (
      await con.runAndReadAll(
        `SELECT path FROM __vfiles WHERE f IN (SELECT DISTINCT f FROM __vkeys WHERE k IN (SELECT k FROM __vdup)) ORDER BY f LIMIT ${MAX_FILES_NAMED}`,
      )
    )
      .getRowsJS()
      .map((r) => String(r[0]));
    return { count, examples, files };
  } finally {
    await con.run('DROP TABLE IF EXISTS __vdup');
  }
}
