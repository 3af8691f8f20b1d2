/**
 * Checks every live (and pending) cold file against its manifest row: it
 * exists, has the recorded size and whole-file sha256 (`file_sha256`, so any
 * changed byte shows), its footer is readable, and its row count and key
 * checksum match. Files from before `file_sha256` (NULL) get the footer, row
 * and key checks only, and are named as such. Then, per table, keys present
 * twice (in two live files, or hot and in a live file), and `.parquet` files
 * in the cold tree the manifest does not list. Reads only; repairs nothing.
 */
import type Database from 'better-sqlite3';
import type { ColdStore } from '../cold/ColdStore.js';
import type { DuckDbEngine } from '../cold/DuckDbEngine.js';
import { fileSha256 } from '../cold/fileSha256.js';
import { readBackKeys, readFooterMetadata } from '../cold/ParquetChunkWriter.js';
import { ColdFileError } from '../errors.js';
import { compareSqlValues } from '../hot/compareSqlValues.js';
import { allManifestPaths, listFiles, type FileState, type ManifestFile } from '../manifest/manifestFiles.js';
import { readMarkers } from '../manifest/deleteMarkers.js';
import { findDuplicateKeys, type DuplicateKeys } from './findDuplicateKeys.js';

export type { DuplicateKeys } from './findDuplicateKeys.js';

export interface FileProblem {
  table: string;
  /** Where the file is, as the cold store names it (an absolute path on a local folder). */
  path: string;
  state: FileState;
  partition: string;
  /** Rows the manifest says the file holds. */
  rows: number;
  /** What is wrong. */
  problem: string;
  /** What it means for the rows, and how to get them back. */
  recovery: string;
}

export interface ValidationReport {
  filesChecked: number;
  rowsChecked: number;
  /** Damaged or missing files: their rows are unreadable until the file is restored. */
  problems: FileProblem[];
  /** Keys present twice: in two live files of a table, or hot and in a live file. */
  duplicateKeys: DuplicateKeys[];
  /** Files checked without a whole-file checksum (written before `file_sha256`): footer, row count and keys only (absolute paths). */
  withoutChecksum: string[];
  /** Warning: `.parquet` files in the cold tree that the manifest does not list; readers never see them (absolute paths). */
  unlisted: string[];
}

export async function validateColdFiles(
  raw: Database.Database,
  engine: DuckDbEngine,
  cold: ColdStore,
  options: { table?: string; onFile?: (done: number, total: number) => void } = {},
): Promise<ValidationReport> {
  const files = listFiles(raw, options.table, ['live', 'pending']);
  const report: ValidationReport = { filesChecked: 0, rowsChecked: 0, problems: [], duplicateKeys: [], withoutChecksum: [], unlisted: [] };
  /** Per table and key column, the live files that passed every check. */
  const intact = new Map<string, { table: string; keyColumn: string; files: ManifestFile[] }>();
  for (const f of files) {
    const abs = cold.describe(f.path);
    report.filesChecked++;
    options.onFile?.(report.filesChecked, files.length);
    const checked = await checkFile(engine, cold, f);
    if (f.file_sha256 === null && checked.present) report.withoutChecksum.push(abs);
    if (checked.issues.length > 0) {
      report.problems.push({
        table: f.table_name,
        path: abs,
        state: f.state,
        partition: f.partition,
        rows: f.rows,
        problem: checked.issues.join('; '),
        recovery: recoveryAdvice(f, abs),
      });
      continue;
    }
    report.rowsChecked += f.rows;
    if (f.state === 'live' && checked.keyColumn !== undefined) {
      const group = `${f.table_name}\u0000${checked.keyColumn}`;
      let entry = intact.get(group);
      if (!entry) intact.set(group, (entry = { table: f.table_name, keyColumn: checked.keyColumn, files: [] }));
      entry.files.push(f);
    }
  }
  for (const { table, keyColumn, files: good } of intact.values()) {
    const keys = keyRangeOf(raw, table);
    const read = await cold.openForRead(good.map((f) => ({ path: f.path, bytes: f.bytes, sha256: f.file_sha256 })));
    try {
      const marks = readMarkers(raw, good.map((f) => f.path));
      const found = await findDuplicateKeys(
        raw,
        engine,
        table,
        keyColumn,
        read.paths,
        keys,
        good.map((f) => marks.byPath.get(f.path) ?? []),
        good.map((f) => f.drained_rows),
      );
      // Name the files as the cold store does (local copies of remote files are a cache's business).
      const named = new Map(read.paths.map((p, i) => [p, cold.describe(good[i]!.path)]));
      report.duplicateKeys.push(...found.map((d) => ({ ...d, files: d.files.map((p) => named.get(p) ?? p) })));
    } finally {
      read.release();
    }
  }
  const known = allManifestPaths(raw);
  for (const object of await cold.list(options.table === undefined ? '' : `${options.table}/`)) {
    if (known.has(object.path)) continue;
    report.unlisted.push(cold.describe(object.path));
  }
  return report;
}

/** What a damaged or missing file means for its rows, and how to get them back. */
function recoveryAdvice(f: ManifestFile, abs: string): string {
  const expected = `${f.bytes} bytes${f.file_sha256 === null ? '' : `, sha256 ${f.file_sha256}`}`;
  if (f.state === 'pending') {
    return (
      `a pending (grace-period) file: its ${f.rows} rows of ${f.table_name} (partition ${f.partition}) are still in the hot tier and readers do not see this file, ` +
      `so nothing is lost; restore it from a copy (${expected}), or expect the archive run that would make it live to drop or fail on it`
    );
  }
  return (
    `its ${f.rows} rows of ${f.table_name} (partition ${f.partition}) are gone from the cold tier, and they are not in the hot tier: ` +
    `queries that read this file fail or return wrong values. Restore ${abs} from a copy or backup of the cold tree (the manifest expects ${expected}), ` +
    `then run tierdb validate again`
  );
}

/** The overall key range of a table's live files, exact (safeIntegers). */
function keyRangeOf(raw: Database.Database, table: string): { min: unknown; max: unknown } {
  const rows = raw
    .prepare(`SELECT min_key AS lo, max_key AS hi FROM _tierdb_files WHERE table_name = ? AND state = 'live'`)
    .safeIntegers(true)
    .all(table) as { lo: unknown; hi: unknown }[];
  let min: unknown = null;
  let max: unknown = null;
  for (const { lo, hi } of rows) {
    if (lo === null || hi === null) return { min: null, max: null };
    const a = min === null ? -1 : compareSqlValues(lo, min);
    const b = max === null ? 1 : compareSqlValues(hi, max);
    if (a === undefined || b === undefined) return { min: null, max: null };
    if (a < 0) min = lo;
    if (b > 0) max = hi;
  }
  return { min, max };
}

/** The problems of one file (empty when it matches its manifest row), and the key column its footer names. */
async function checkFile(engine: DuckDbEngine, cold: ColdStore, f: ManifestFile): Promise<{ issues: string[]; present: boolean; keyColumn?: string }> {
  const info = await cold.stat(f.path);
  if (!info) return { issues: ['missing: the manifest lists it but it is not on disk'], present: false };
  // A remote store downloads the object afresh (not a copy cached earlier); one that does not match
  // the manifest's size and sha256 is the object's own damage (ColdFileError).
  let read;
  try {
    read = await cold.openForRead([{ path: f.path, bytes: f.bytes, sha256: f.file_sha256 }], { fresh: true });
  } catch (error) {
    if (error instanceof ColdFileError) return { issues: [`damaged: ${error.message.replace(/: run tierdb validate$/, '')}`], present: true };
    throw error;
  }
  try {
    return { ...(await checkLocalCopy(engine, read.paths[0]!, info.bytes, f)), present: true };
  } finally {
    read.release();
  }
}

async function checkLocalCopy(engine: DuckDbEngine, abs: string, size: number, f: ManifestFile): Promise<{ issues: string[]; keyColumn?: string }> {
  const issues: string[] = [];
  if (size !== f.bytes) issues.push(`size ${size} bytes, the manifest says ${f.bytes}`);
  if (f.file_sha256 !== null) {
    const sha = await fileSha256(abs);
    // A damaged file may still parse (a flipped bit in a value): do not read it further.
    if (sha !== f.file_sha256) return { issues: [...issues, `damaged: its sha256 is ${sha}, the manifest recorded ${f.file_sha256} when it was written`] };
  }
  try {
    const meta = await readFooterMetadata(engine, abs);
    if (meta['tierdb.table'] !== undefined && meta['tierdb.table'] !== f.table_name) {
      issues.push(`footer names table ${meta['tierdb.table']}, the manifest says ${f.table_name}`);
    }
    const keyColumn = meta['tierdb.key_column'];
    if (keyColumn === undefined) return { issues: [...issues, 'footer has no tierdb.key_column metadata'] };
    const back = await readBackKeys(engine, abs, keyColumn);
    if (back.rows !== f.rows) issues.push(`${back.rows} rows, the manifest says ${f.rows}`);
    else if (back.checksum !== f.checksum) issues.push('key checksum differs from the manifest');
    return { issues, keyColumn };
  } catch (error) {
    issues.push(`unreadable: ${(error as Error).message}`);
  }
  return { issues };
}
