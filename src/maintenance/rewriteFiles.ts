/**
 * The write half of every cold-tier swap (compaction, retention, restore):
 * some live files of one table in, at most one new file out, holding the rows
 * that `keep` selects and no delete marker hides, newest run winning on a key present in several inputs,
 * sorted by (time, key). Nothing here changes the manifest: the caller swaps
 * the inputs for the output in one transaction (swapManifestFiles).
 *
 *   1. open the inputs through the ColdStore and check each whole-file sha256
 *      against the manifest (a damaged input is never merged);
 *   2. read the expected result from the inputs: its keys in order (count,
 *      key checksum, key and time ranges) and a fingerprint of every value of
 *      every row (count and sum of row hashes: rowFingerprint.ts) — the sum
 *      of those the inputs' footers record when the output holds their rows
 *      unchanged, else read from their values (while (3) runs when there is
 *      no `keep` and no marker);
 *   3. COPY the same SELECT into a staging file (zstd, footer metadata), fsync;
 *      sorted by DuckDB, or — when the inputs already hold their rows in
 *      (time, key) order and their time ranges do not meet (day files, as the
 *      archiver writes them) — read in that order without a sort;
 *   4. read the file back: keys in order and the row fingerprint must equal (2)
 *      (so a file not in (time, key) order never passes; an unsorted read is
 *      written again, sorted);
 *   5. `cold.put` it into the deepest Hive folder holding its time range.
 *
 * A crash anywhere leaves the inputs live and at most an unlisted file whose
 * name carries the run's token, which recovery removes.
 */
import { createHash } from 'node:crypto';
import { rmSync, statSync } from 'node:fs';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { folderFilePath, hiveFolderOf, tmpFilePath } from '../cold/coldLayout.js';
import type { ColdType } from '../cold/columnTypes.js';
import { sqlIdent, sqlString, type DuckDbEngine, readColdParquet } from '../cold/DuckDbEngine.js';
import { fileSha256 } from '../cold/fileSha256.js';
import { fsyncFile } from '../cold/fsyncFile.js';
import { duckdbVersion, fingerprintSql, fingerprintText, footerFingerprint, recordedFingerprint, ROW_FINGERPRINT_KEY, rowHashSql } from '../cold/rowFingerprint.js';
import { keyChecksum } from '../cold/ParquetChunkWriter.js';
import { ColdFileError, SchemaDriftError } from '../errors.js';
import type { ManifestFile, NewManifestFile } from '../manifest/manifestFiles.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import { valueToMs } from '../registry/timeUnit.js';
import { compareKeys, keyForManifest, keyText } from '../archive/chunkKeys.js';
import { failpoint } from '../archive/failpoint.js';
import type Database from 'better-sqlite3';
import { antiJoinMarks, FILE_COLUMN, loadMarksTable } from '../cold/markedRows.js';
import { readMarkers, type FileMarkers } from '../manifest/deleteMarkers.js';
import type { MaintenanceContext } from './MaintenanceContext.js';
import { parquetFieldIds } from '../iceberg/parquetFieldIds.js';

export interface RewriteOptions {
  engine: DuckDbEngine;
  table: ResolvedTable;
  inputs: readonly ManifestFile[];
  /** The new file's id, `fileId(runId, seq, runToken)`. */
  id: string;
  runId: number;
  now: number;
  /** A DuckDB predicate over the table's columns: only the rows it selects are kept (all when absent). */
  keep?: string | undefined;
  /** Rows left out as delete markers leave theirs: manifest path of an input → keys of that file's rows (erase). */
  drop?: ReadonlyMap<string, readonly unknown[]> | undefined;
}

export interface RewriteResult {
  /** The new file's manifest row, or undefined when no row is kept (the inputs just go). */
  output: NewManifestFile | undefined;
  rowsIn: number;
  rowsOut: number;
  /** Rows dropped because a newer input holds the same key. */
  duplicatesDropped: number;
  /** Rows `keep` did not select (delete-marked rows not counted). */
  rowsRemoved: number;
  /** Rows left out because a delete marker (or `drop`) names them. */
  markedRemoved: number;
  /** The newest delete marker id the output accounts for: pass it to commitSwap. */
  marksThrough: number;
}

/** The union of the inputs' columns, newest file's order first; the same name must have one type in all. */
export function unionSchema(table: string, inputs: readonly ManifestFile[]): { name: string; type: ColdType }[] {
  const out = new Map<string, ColdType>();
  for (const f of [...inputs].sort((a, b) => (b.run_id ?? 0) - (a.run_id ?? 0) || b.id - a.id)) {
    for (const c of JSON.parse(f.schema_json) as { name: string; type: ColdType }[]) {
      const seen = out.get(c.name);
      if (seen === undefined) out.set(c.name, c.type);
      else if (seen !== c.type) {
        throw new SchemaDriftError(`${table}.${c.name} is ${seen} in some cold files and ${c.type} in others (${f.path}): these files are not merged`);
      }
    }
  }
  return [...out].map(([name, type]) => ({ name, type }));
}

/**
 * The SELECT of `inputs`' rows (read from `localPaths`) as `schema`, only those
 * `keep` selects, and on a key several inputs hold only the newest run's row.
 */
export function coldRowsSql(
  t: Pick<ResolvedTable, 'keyColumn'>,
  inputs: readonly ManifestFile[],
  localPaths: readonly string[],
  schema: readonly { name: string; type: ColdType }[],
  keep?: string,
  marksTable?: string,
): string {
  const columns = schema.map((c) => `CAST(s.${sqlIdent(c.name)} AS ${c.type}) AS ${sqlIdent(c.name)}`).join(', ');
  const where = keep ? ` WHERE ${keep}` : '';
  if (!mayShareKeys(inputs)) return `SELECT ${columns} FROM ${maskedSource(t, inputs, localPaths, marksTable, false)}${where}`;
  // Each input's rank comes from its manifest row: the newest run wins.
  const ranks = [...inputs.entries()]
    .sort(([, a], [, b]) => (a.run_id ?? 0) - (b.run_id ?? 0) || a.id - b.id)
    .map(([i], rank) => `(${sqlString(localPaths[i]!)}, ${rank})`)
    .join(', ');
  return (
    `SELECT ${columns} FROM ${maskedSource(t, inputs, localPaths, marksTable, true)} ` +
    `JOIN (VALUES ${ranks}) AS r(${FILE_COLUMN}, __tierdb_rank) ON r.${FILE_COLUMN} = s.${FILE_COLUMN}${where} ` +
    `QUALIFY row_number() OVER (PARTITION BY s.${sqlIdent(t.keyColumn)} ORDER BY __tierdb_rank DESC) = 1`
  );
}

/**
 * The inputs' rows as `s`, minus the rows their delete markers hide (when `marksTable` is given).
 * By name (`union_by_name`) only when the inputs' schemas differ: it costs a third of a scan (coldRelation.ts).
 */
function maskedSource(
  t: Pick<ResolvedTable, 'keyColumn'>,
  inputs: readonly Pick<ManifestFile, 'schema_json'>[],
  localPaths: readonly string[],
  marksTable: string | undefined,
  withFile: boolean,
): string {
  const union = new Set(inputs.map((f) => f.schema_json)).size > 1 && 'union_by_name = true';
  const file = (withFile || marksTable !== undefined) && `filename = '${FILE_COLUMN}'`;
  return `${readColdParquet(localPaths, union, file)} AS s${marksTable ? antiJoinMarks('s', marksTable, t.keyColumn) : ''}`;
}

/** The temp table rewriteFiles and restore load the inputs' markers into. */
export const REWRITE_MARKS_TABLE = '__tierdb_rewrite_marks';

/**
 * Loads the delete markers of `inputs` (read now, from `raw`) for a rewrite
 * reading them at `localPaths`. Returns the marks table to pass to
 * coldRowsSql (undefined when no input has a marker) and the newest marker id
 * the read accounts for (for the swap's check).
 */
export async function loadInputMarks(
  raw: Database.Database,
  engine: DuckDbEngine,
  t: Pick<ResolvedTable, 'keyColumn'>,
  inputs: readonly ManifestFile[],
  localPaths: readonly string[],
  schema: readonly { name: string; type: ColdType }[],
  drop?: ReadonlyMap<string, readonly unknown[]>,
): Promise<{ marksTable: string | undefined; marksThrough: number; marked: number }> {
  const read = readMarkers(raw, inputs.map((f) => f.path));
  const marks = drop === undefined || drop.size === 0 ? read : withDropped(read, drop);
  if (marks.count === 0) return { marksTable: undefined, marksThrough: marks.throughId, marked: 0 };
  const keyType = schema.find((c) => c.name === t.keyColumn)?.type ?? 'BIGINT';
  const marked = await loadMarksTable(engine.connection, REWRITE_MARKS_TABLE, keyType, inputs.map((f) => f.path), localPaths, marks);
  return { marksTable: REWRITE_MARKS_TABLE, marksThrough: marks.throughId, marked };
}

/** `marks` and the rows `drop` names, each (file, key) once. */
function withDropped(marks: FileMarkers, drop: ReadonlyMap<string, readonly unknown[]>): FileMarkers {
  const byPath = new Map<string, unknown[]>();
  let count = 0;
  for (const path of new Set([...marks.byPath.keys(), ...drop.keys()])) {
    const keys = new Map<string, unknown>();
    for (const k of [...(marks.byPath.get(path) ?? []), ...(drop.get(path) ?? [])]) keys.set(keyText(k), k);
    byPath.set(path, [...keys.values()]);
    count += keys.size;
  }
  // Rewrites anti-join by key: positions are for readers.
  return { byPath, positions: new Map(), throughId: marks.throughId, count };
}

/**
 * The SELECTs of a rewrite: `source`, the rows to write (coldRowsSql);
 * `ordered`, the same sorted by (time, key); `presorted`, when there is one,
 * the same in (time, key) order without a sort (the inputs read in time order:
 * see timeOrder; a filter keeps that order, the dedupe and the markers' join
 * may not).
 */
export function rewriteSelects(
  t: Pick<ResolvedTable, 'keyColumn' | 'timeColumn'>,
  inputs: readonly ManifestFile[],
  localPaths: readonly string[],
  schema: readonly { name: string; type: ColdType }[],
  keep?: string,
  marksTable?: string,
): { source: string; ordered: string; presorted: string | undefined; deduped: boolean } {
  const source = coldRowsSql(t, inputs, localPaths, schema, keep, marksTable);
  const ordered = `SELECT * FROM (${source}) ORDER BY ${sqlIdent(t.timeColumn)}, ${sqlIdent(t.keyColumn)}`;
  const deduped = mayShareKeys(inputs);
  const inTimeOrder = marksTable !== undefined || deduped ? undefined : timeOrder(inputs);
  const presorted = inTimeOrder && coldRowsSql(t, inTimeOrder.map((i) => inputs[i]!), inTimeOrder.map((i) => localPaths[i]!), schema, keep);
  return { source, ordered, presorted, deduped };
}

/**
 * The inputs' indexes in time order when their time ranges do not meet (each
 * file's earliest time after the previous file's latest): read in that order,
 * files holding rows in (time, key) order — as the archiver and rewriteFiles
 * write them — give all rows in (time, key) order without a sort. Undefined
 * when two ranges meet. The read-back checks the order either way.
 */
function timeOrder(inputs: readonly ManifestFile[]): number[] | undefined {
  const order = [...inputs.keys()].sort((a, b) => inputs[a]!.min_time_ms - inputs[b]!.min_time_ms);
  for (let i = 1; i < order.length; i++) {
    if (inputs[order[i]!]!.min_time_ms <= inputs[order[i - 1]!]!.max_time_ms) return undefined;
  }
  return order;
}

/** Whether `f`'s columns are `schema` (names, types, order): then its rows hash as the output's do. */
function sameSchema(f: ManifestFile, schema: readonly { name: string; type: ColdType }[]): boolean {
  const own = JSON.parse(f.schema_json) as { name: string; type: ColdType }[];
  return own.length === schema.length && own.every((c, i) => c.name === schema[i]!.name && c.type === schema[i]!.type);
}

/** Whether a key could be in two of the inputs (then coldRowsSql keeps the newest run's row). */
function mayShareKeys(inputs: readonly ManifestFile[]): boolean {
  return inputs.length >= 2 && rangesOverlap(inputs);
}

/** Whether the inputs' key ranges overlap, so that a key could be in two of them. */
function rangesOverlap(inputs: readonly ManifestFile[]): boolean {
  const sorted = [...inputs].sort((a, b) => compareKeys(a.min_key, b.min_key));
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (prev.min_key === null || cur.min_key === null || prev.max_key === null || compareKeys(cur.min_key, prev.max_key) <= 0) return true;
  }
  return false;
}

export async function rewriteFiles(ctx: MaintenanceContext, o: RewriteOptions): Promise<RewriteResult> {
  const { engine, table: t, inputs } = o;
  const con = engine.connection;
  const rowsIn = inputs.reduce((n, f) => n + f.rows, 0);
  const schema = unionSchema(t.table, inputs);
  const read = await ctx.cold.openForRead(inputs.map((f) => ({ path: f.path, bytes: f.bytes, sha256: f.file_sha256 })));
  const tmp = tmpFilePath(ctx.cold.stagingDir, t.table, o.id);
  let putPath: string | undefined;
  let done = false;
  try {
    // The inputs' sha256 is checked while DuckDB reads the expected result (its
    // own threads); nothing is written before the check has passed.
    const inputsChecked = checkInputs(ctx, inputs, read.paths);
    inputsChecked.catch(() => undefined);
    const marks = await loadInputMarks(ctx.raw, engine, t, inputs, read.paths, schema, o.drop);
    // Inputs that cannot share a key are read without dedupe: the rows `keep` selects are the expected rows (counted there).
    const { source, ordered, presorted, deduped } = rewriteSelects(t, inputs, read.paths, schema, o.keep, marks.marksTable);

    const unmarked = rowsIn - marks.marked;
    let kept: number | undefined;
    let expected: ExpectedRows;
    try {
      kept =
        o.keep && deduped
          ? Number((await con.runAndReadAll(`SELECT count(*) FROM ${maskedSource(t, inputs, read.paths, marks.marksTable, false)} WHERE ${o.keep}`)).getRowsJS()[0]![0])
          : undefined;
      expected = await readExpectedRows(engine, t, schema, source);
    } catch (error) {
      await inputsChecked; // a damaged input is the better explanation
      throw error;
    }
    await inputsChecked;
    const keptRows = kept ?? (o.keep ? expected.rows : unmarked);
    const result = {
      rowsIn,
      rowsOut: expected.rows,
      duplicatesDropped: keptRows - expected.rows,
      rowsRemoved: unmarked - keptRows,
      markedRemoved: marks.marked,
      marksThrough: marks.marksThrough,
    };
    if (expected.rows === 0) {
      done = true;
      return { output: undefined, ...result };
    }
    const { minKey, maxKey, checksum } = expected;
    const minTime = valueToMs(expected.firstTime, t.timeUnit);
    const maxTime = valueToMs(expected.lastTime, t.timeUnit);
    const folder = hiveFolderOf(minTime, maxTime, t.partition);
    const rel = folderFilePath(t.table, folder.dir, o.id);
    const metadata: Record<string, string> = {
      'tierdb.table': t.table,
      'tierdb.partition': folder.key,
      'tierdb.rows': String(expected.rows),
      'tierdb.key_column': t.keyColumn,
      'tierdb.min_key': String(minKey),
      'tierdb.max_key': String(maxKey),
      'tierdb.time_column': t.timeColumn,
      'tierdb.time_unit': t.timeUnit,
      'tierdb.min_time_ms': String(minTime),
      'tierdb.max_time_ms': String(maxTime),
      'tierdb.key_checksum': checksum,
      'tierdb.schema': JSON.stringify(schema),
      'tierdb.run_id': String(o.runId),
      'tierdb.rewritten_from': String(inputs.length),
    };
    // The inputs' fingerprint: the sum of those their footers record when the output holds their rows unchanged
    // (no keep, no marker, no dedupe, one schema: their sha256 is checked); else read from their values — on this
    // connection before the COPY when a keep or the markers use its temp tables, else on another one while the COPY writes.
    const unchanged = o.keep === undefined && marks.marksTable === undefined && !deduped && inputs.every((f) => sameSchema(f, schema));
    const recorded = unchanged ? await recordedFingerprint(con, read.paths) : undefined;
    const fieldIds = parquetFieldIds(ctx.raw, t.table, schema);
    const onThisConnection = o.keep !== undefined || marks.marksTable !== undefined;
    let known = recorded ?? (onThisConnection ? await readSourceFingerprint(engine, schema, source, false) : undefined);
    const fingerprint = known !== undefined ? Promise.resolve(known) : readSourceFingerprint(engine, schema, source, true);
    fingerprint.catch(() => undefined);
    const version = await duckdbVersion(con);
    // A fingerprint known before the COPY goes in the footer, for the next rewrite of this file.
    const copy = (select: string, fp: string | undefined) => {
      const kv = Object.entries(fp === undefined ? metadata : { ...metadata, [ROW_FINGERPRINT_KEY]: footerFingerprint(version, fp) })
        .map(([k, v]) => `${sqlIdent(k)}: ${sqlString(v)}`)
        .join(', ');
      return con.run(`COPY (${select}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${ctx.config.archiveZstdLevel}, ROW_GROUP_SIZE 122880, KV_METADATA {${kv}}${fieldIds ? `, FIELD_IDS ${fieldIds}` : ''})`);
    };
    try {
      await copy(presorted ?? ordered, known);
    } finally {
      await fingerprint.catch(() => undefined);
    }
    let expectedFingerprint = await fingerprint;
    // The times are in the row fingerprint: the key order is read back alone.
    const verified = async (): Promise<boolean> => {
      fsyncFile(tmp);
      failpoint('rewrite-after-write');
      const back = await readFileRows(engine, t, schema, tmp);
      return back.rows === expected.rows && back.checksum === checksum && back.fingerprint === expectedFingerprint;
    };
    let ok = await verified();
    if (!ok && recorded !== undefined) {
      const fromValues = await readSourceFingerprint(engine, schema, source, false);
      if (fromValues !== recorded) {
        // The footers' records do not describe their rows (another writer's footers): the values' fingerprint, and a footer that says it.
        ctx.logger.warn({ table: t.table, inputs: inputs.length }, 'rewrite: the row fingerprints recorded in the inputs\' footers differ from their rows; using the rows');
        expectedFingerprint = known = fromValues;
        await copy(presorted ?? ordered, known);
        ok = await verified();
      }
    }
    if (!ok && presorted !== undefined) {
      // The inputs were not in (time, key) order after all (a file written by another tool, or text times whose
      // order is not their instants'): the same rows, sorted by DuckDB.
      ctx.logger.info({ table: t.table, inputs: inputs.length }, 'rewrite: inputs not in (time, key) order; writing them sorted');
      await copy(ordered, known);
      ok = await verified();
    }
    if (!ok) throw new ColdFileError(tmp, `verification failed for ${tmp}: read back other rows, keys, key order or values than its inputs hold (expected ${expected.rows} rows)`);
    const bytes = statSync(tmp).size;
    const sha = await fileSha256(tmp);
    putPath = rel;
    await ctx.cold.put(tmp, rel, { bytes, sha256: sha });
    failpoint('rewrite-after-put');
    const hotBytes = inputs.reduce((n, f) => n + (f.hot_bytes ?? 0), 0);
    done = true;
    return {
      output: {
        table_name: t.table,
        path: rel,
        partition: folder.key,
        rows: expected.rows,
        min_time_ms: minTime,
        max_time_ms: maxTime,
        min_key: keyForManifest(minKey),
        max_key: keyForManifest(maxKey),
        bytes,
        hot_bytes: rowsIn > 0 ? Math.round((hotBytes * expected.rows) / rowsIn) : 0,
        checksum,
        file_sha256: sha,
        schema_json: JSON.stringify(schema),
        state: 'live',
        run_id: o.runId,
        created_at_ms: o.now,
        visible_after_ms: null,
      },
      ...result,
    };
  } finally {
    read.release();
    rmSync(tmp, { force: true });
    if (!done && putPath !== undefined) await ctx.cold.delete(putPath);
  }
}

/**
 * The first column (keys, bigint or text) of a query's rows in its order, and
 * the second column's (the time's) value in its first and last row: the time
 * range of a query ordered by time. Only those two time values are converted
 * to JS, not one per row.
 */
export async function readKeysAndTimeRange(engine: DuckDbEngine, sql: string): Promise<{ keys: unknown[]; firstTime: unknown; lastTime: unknown }> {
  const keys: unknown[] = [];
  let firstTime: unknown;
  let lastTime: unknown;
  let first = true;
  for (const chunk of await (await engine.connection.run(sql)).fetchAllChunks()) {
    const n = chunk.rowCount;
    if (n === 0) continue;
    chunk.appendColumnValues(0, keys as DuckDBValue[]);
    const times = chunk.getColumnVector(1);
    if (first) firstTime = times.getItem(0);
    first = false;
    lastTime = times.getItem(n - 1);
  }
  return { keys, firstTime, lastTime };
}

/** The first column (keys) of a query's rows, in its order. */
export async function readKeys(engine: DuckDbEngine, sql: string): Promise<unknown[]> {
  const keys: unknown[] = [];
  for (const chunk of await (await engine.connection.run(sql)).fetchAllChunks()) {
    chunk.appendColumnValues(0, keys as DuckDBValue[]);
  }
  return keys;
}

/** The fingerprint (rowFingerprint.ts) of `schema`'s columns over `from`, read on `con`. */
async function readFingerprint(con: DuckDBConnection, schema: readonly { name: string; type: ColdType }[], from: string): Promise<string> {
  const [row] = (await con.runAndReadAll(fingerprintSql(schema.map((c) => c.name), from))).getRowsJS();
  return fingerprintText(row![0], row![1]);
}

/** Each input's whole-file sha256 against its manifest row. */
async function checkInputs(ctx: MaintenanceContext, inputs: readonly ManifestFile[], paths: readonly string[]): Promise<void> {
  for (const [i, f] of inputs.entries()) {
    if (f.file_sha256 === null) continue;
    const sha = await fileSha256(paths[i]!);
    if (sha !== f.file_sha256) {
      throw new ColdFileError(ctx.cold.describe(f.path), `cold file ${ctx.cold.describe(f.path)} is damaged (sha256 ${sha}, the manifest recorded ${f.file_sha256}): it is not rewritten; run tierdb validate`);
    }
  }
}

/** What the rows to write and the written file must agree on. */
export interface RowsRead {
  rows: number;
  /** `keyChecksum` of the keys in order (the footer's `tierdb.key_checksum`). */
  checksum: string;
  /** Count and sum of `hash(<every column>)`: any changed value shows. */
  fingerprint: string;
}

export interface ExpectedRows extends Omit<RowsRead, 'fingerprint'> {
  minKey: unknown;
  maxKey: unknown;
  /** The time of the first and of the last row in (time, key) order. */
  firstTime: unknown;
  lastTime: unknown;
}

/** Keys checksummed inside DuckDB per block of this many rows in order; the blocks are hashed in order in JS. */
const KEY_BLOCK_ROWS = 8192;

/**
 * Whether DuckDB can write the key as the text `keyChecksum` hashes
 * (`String(key)`): BIGINT and VARCHAR keys (CAST gives the same text); not
 * DOUBLE (`1.0` vs `1`) or BLOB. Not when a column is called
 * `file_row_number` (read_parquet's own column, which the read-back orders by).
 */
function keysChecksummedInDuckDb(t: Pick<ResolvedTable, 'keyColumn'>, schema: readonly { name: string; type: ColdType }[]): boolean {
  const type = schema.find((c) => c.name === t.keyColumn)?.type;
  return (type === 'BIGINT' || type === 'VARCHAR') && !schema.some((c) => c.name.toLowerCase() === 'file_row_number');
}

/** The text `keyChecksum` hashes per key (`${String(k)}\n`), in DuckDB. */
const keyLine = (key: string) => `CAST(${key} AS VARCHAR) || chr(10)`;

/** Per-block results (ordered by block) folded into one: the blocks' key text hashed in order, counts (and hash sums, column 4, when there) added. */
function foldBlocks(blocks: readonly (readonly unknown[])[]): RowsRead & { keysCounted: bigint } {
  const hash = createHash('sha256');
  let rows = 0n;
  let keysCounted = 0n;
  let sum = 0n;
  for (const b of blocks) {
    hash.update(b[1] as string);
    rows += b[2] as bigint;
    keysCounted += b[3] as bigint;
    sum += (b[4] as bigint | undefined) ?? 0n;
  }
  return { rows: Number(rows), checksum: hash.digest('hex'), fingerprint: `${rows}:${sum}`, keysCounted };
}

/**
 * The fingerprint of the rows `source` selects (count and sum of
 * `hash(<every column>)`). With `ownConnection`, on a connection of its own
 * (TimeZone UTC, as the engine's), so that rewriteFiles can read it while the
 * COPY runs (the COPY leaves a core idle part of the time); not for a
 * `source` that reads the engine connection's temp tables (a `keep`).
 */
export async function readSourceFingerprint(engine: DuckDbEngine, schema: readonly { name: string; type: ColdType }[], source: string, ownConnection: boolean): Promise<string> {
  if (!ownConnection) return readFingerprint(engine.connection, schema, `(${source})`);
  const con = await engine.instance.connect();
  try {
    await con.run(`SET TimeZone = 'UTC'`);
    return await readFingerprint(con, schema, `(${source})`);
  } finally {
    con.closeSync();
  }
}

/**
 * The rows `source` selects, as they will be written (ordered by time, key):
 * count, key checksum, key range and first/last time (what the footer says).
 * In one DuckDB scan of the key and time columns where the key's text is
 * DuckDB's (see keysChecksummedInDuckDb), else with the keys read into JS.
 */
export async function readExpectedRows(engine: DuckDbEngine, t: ResolvedTable, schema: readonly { name: string; type: ColdType }[], source: string): Promise<ExpectedRows> {
  const key = sqlIdent(t.keyColumn);
  const time = sqlIdent(t.timeColumn);
  if (keysChecksummedInDuckDb(t, schema)) {
    const blocks = (
      await engine.connection.runAndReadAll(
        `SELECT __tierdb_rn // ${KEY_BLOCK_ROWS} AS __tierdb_block, string_agg(${keyLine(key)}, '' ORDER BY __tierdb_rn), count(*), count(${key}), ` +
          `NULL, min(${key}), max(${key}), arg_min_null(${time}, __tierdb_rn), arg_max_null(${time}, __tierdb_rn) ` +
          `FROM (SELECT ${key}, ${time}, row_number() OVER (ORDER BY ${time}, ${key}) AS __tierdb_rn ` +
          `FROM (SELECT ${key}, ${time} FROM (${source}))) GROUP BY __tierdb_block ORDER BY __tierdb_block`,
      )
    ).getRowsJS();
    const folded = foldBlocks(blocks);
    // A NULL key (never archived) is hashed by keyChecksum as 'null' and ordered by compareKeys: JS does it.
    if (folded.keysCounted === BigInt(folded.rows)) {
      let minKey = blocks[0]?.[5];
      let maxKey = blocks[0]?.[6];
      for (const b of blocks) {
        if (compareKeys(b[5], minKey) < 0) minKey = b[5];
        if (compareKeys(b[6], maxKey) > 0) maxKey = b[6];
      }
      return { rows: folded.rows, checksum: folded.checksum, minKey, maxKey, firstTime: blocks[0]?.[7], lastTime: blocks.at(-1)?.[8] };
    }
  }
  const e = await readKeysAndTimeRange(engine, `SELECT ${key}, ${time} FROM (${source}) ORDER BY ${time}, ${key}`);
  let minKey = e.keys[0];
  let maxKey = e.keys[0];
  for (const k of e.keys) {
    if (compareKeys(k, minKey) < 0) minKey = k;
    if (compareKeys(k, maxKey) > 0) maxKey = k;
  }
  return { rows: e.keys.length, checksum: keyChecksum(e.keys), minKey, maxKey, firstTime: e.firstTime, lastTime: e.lastTime };
}

/** The written file read back: count, key checksum in file order, fingerprint (one scan where DuckDB writes the key's text). */
export async function readFileRows(engine: DuckDbEngine, t: ResolvedTable, schema: readonly { name: string; type: ColdType }[], file: string): Promise<RowsRead> {
  const key = sqlIdent(t.keyColumn);
  const rowHash = rowHashSql(schema.map((c) => c.name));
  if (keysChecksummedInDuckDb(t, schema)) {
    const blocks = (
      await engine.connection.runAndReadAll(
        `SELECT file_row_number // ${KEY_BLOCK_ROWS} AS __tierdb_block, string_agg(${keyLine(key)}, '' ORDER BY file_row_number), count(*), count(${key}), sum(${rowHash}::HUGEINT) ` +
          `FROM ${readColdParquet(file, 'file_row_number = true')} GROUP BY __tierdb_block ORDER BY __tierdb_block`,
      )
    ).getRowsJS();
    const folded = foldBlocks(blocks);
    if (folded.keysCounted === BigInt(folded.rows)) return folded;
  }
  const keys = await readKeys(engine, `SELECT ${key} FROM ${readColdParquet(file)}`);
  return { rows: keys.length, checksum: keyChecksum(keys), fingerprint: await readFingerprint(engine.connection, schema, readColdParquet(file)) };
}
