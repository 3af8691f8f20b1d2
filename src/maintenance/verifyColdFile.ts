/**
 * One cold file, judged by what it says of itself: its footer (table,
 * partition, rows, key and time ranges, key checksum, schema) must be complete,
 * name a registered table with the registry's key and time columns, match the
 * folder the file is in, and agree with its rows read back (row count, key
 * checksum, key and time ranges, each key once, the columns); every column
 * must decode. Then, when the manifest already lists the file, its size and
 * whole-file sha256 must be what the manifest recorded (the witness).
 * Reads only, through the ColdStore.
 */
import { sqlIdent, type DuckDbEngine, readColdParquet } from '../cold/DuckDbEngine.js';
import { parseFooter, summarizeChunk, type ColdFooter } from '../cold/chunkFooter.js';
import { parseFileId, partitionDir } from '../cold/coldLayout.js';
import type { ColdObjectInfo, ColdStore } from '../cold/ColdStore.js';
import { fileSha256 } from '../cold/fileSha256.js';
import { readFooterMetadata } from '../cold/ParquetChunkWriter.js';
import { keyText } from '../archive/chunkKeys.js';
import type { ManifestFile } from '../manifest/manifestFiles.js';
import type { ResolvedTable } from '../registry/resolveRegistry.js';
import type { RebuildProblem } from './RebuildReport.js';

/** A file that passed every check of its own. */
export interface VerifiedFile {
  path: string;
  table: string;
  footer: ColdFooter;
  /** The key range as read from the rows (bigint for INTEGER keys). */
  minKey: unknown;
  maxKey: unknown;
  bytes: number;
  sha256: string;
  mtimeMs: number;
  /** The run that wrote it, from its name; undefined for names without a run token. */
  id: { runId: number; seq: number; runToken: string } | undefined;
}

export type FileVerdict =
  | {
      ok: true;
      file: VerifiedFile;
      /** The file is sound, but not the one the manifest row `witness` recorded (size or sha256). */
      witnessProblem?: string;
    }
  | { ok: false; problem: RebuildProblem };

/**
 * Verifies one file of the tree. `witness` is the manifest row that lists it, if any.
 *
 * @example
 * const v = await verifyColdFile(engine, cold, info, new Map(tables.map((t) => [t.table, t])), manifestRowOf(info.path));
 * if (!v.ok) report.problems.push(v.problem);
 */
export async function verifyColdFile(
  engine: DuckDbEngine,
  cold: ColdStore,
  info: ColdObjectInfo,
  tables: ReadonlyMap<string, ResolvedTable>,
  witness: ManifestFile | undefined,
): Promise<FileVerdict> {
  const fail = (kind: RebuildProblem['kind'], detail: string, table?: string): FileVerdict => ({
    ok: false,
    problem: { path: info.path, kind, ...(table !== undefined ? { table } : {}), detail },
  });
  let handle;
  try {
    handle = await cold.openForRead([{ path: info.path, bytes: info.bytes }]);
  } catch (error) {
    return fail('unreadable', `cannot be read from ${cold.describe(info.path)}: ${(error as Error).message}`);
  }
  try {
    const local = handle.paths[0]!;
    let meta: Record<string, string>;
    try {
      meta = await readFooterMetadata(engine, local);
    } catch (error) {
      return fail('unreadable', `not readable as Parquet: ${(error as Error).message}`);
    }
    const parsed = parseFooter(meta);
    if ('foreign' in parsed) return fail('foreign', 'a Parquet file without tierdb footer metadata (not written by tierdb)');
    if ('problem' in parsed) return fail('bad-footer', parsed.problem, meta['tierdb.table']);
    const footer = parsed.footer;
    const table = footer.table;
    const t = tables.get(table);
    if (!t) return fail('unregistered', `its footer names table ${table}, which the registry does not have`, table);
    const differences = [
      footer.keyColumn !== t.keyColumn ? `key column ${footer.keyColumn} (the registry's is ${t.keyColumn})` : '',
      footer.timeColumn !== t.timeColumn ? `time column ${footer.timeColumn} (the registry's is ${t.timeColumn})` : '',
      footer.timeUnit !== t.timeUnit ? `time unit ${footer.timeUnit} (the registry's is ${t.timeUnit})` : '',
    ].filter((d) => d !== '');
    if (differences.length > 0) return fail('registry-mismatch', `its footer names ${differences.join(', ')}`, table);
    const name = info.path.slice(info.path.lastIndexOf('/') + 1);
    // Archived files sit in their partition's folder, merged and rewritten ones in the deepest folder holding their range.
    const dir = partitionDir(footer.partition);
    const folder = dir === undefined ? undefined : dir === '' ? table : `${table}/${dir}`;
    if (folder === undefined || info.path !== `${folder}/${name}`) {
      return fail('misplaced', `its footer says table ${table}, partition ${footer.partition}: it belongs in ${folder ?? `${table}/?`}/`, table);
    }

    const sha256 = await fileSha256(local);
    const checked = await checkRows(engine, local, footer);
    if ('problem' in checked) return fail(checked.unreadable ? 'unreadable' : 'mismatch', checked.problem, table);

    const file: VerifiedFile = {
      path: info.path,
      table,
      footer,
      minKey: checked.minKey,
      maxKey: checked.maxKey,
      bytes: info.bytes,
      sha256,
      mtimeMs: Math.round(info.mtimeMs),
      id: parseFileId(name),
    };
    let witnessProblem: string | undefined;
    if (witness) {
      if (witness.bytes !== info.bytes) witnessProblem = `${info.bytes} bytes, the manifest recorded ${witness.bytes}`;
      else if (witness.file_sha256 !== null && witness.file_sha256 !== sha256) {
        witnessProblem = `damaged: its sha256 is ${sha256}, the manifest recorded ${witness.file_sha256} when it was written`;
      } else if (witness.table_name !== table) witnessProblem = `its footer names table ${table}, the manifest says ${witness.table_name}`;
    }
    return { ok: true, file, ...(witnessProblem !== undefined ? { witnessProblem } : {}) };
  } finally {
    handle.release();
  }
}

/** The file's rows against its footer; the key range as read. */
async function checkRows(
  engine: DuckDbEngine,
  local: string,
  footer: ColdFooter,
): Promise<{ problem: string; unreadable?: boolean } | { minKey: unknown; maxKey: unknown }> {
  const con = engine.connection;
  // The Hive folders (year=/month=/day=) are not columns of the file.
  const from = readColdParquet(local);
  try {
    const columns = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`)).getRows().map((r) => ({ name: String(r[0]), type: String(r[1]) }));
    const expected = footer.schema.map((c) => `${c.name} ${c.type}`).join(', ');
    const found = columns.map((c) => `${c.name} ${c.type}`).join(', ');
    if (expected !== found) return { problem: `its columns are (${found}), its footer's schema says (${expected})` };

    // The hash of the whole row decodes every page of every column (the key checksum covers only the key column).
    const rows = (await con.runAndReadAll(`SELECT ${sqlIdent(footer.keyColumn)}, ${sqlIdent(footer.timeColumn)}, hash(p) FROM ${from} p`)).getRows() as unknown[][];
    if (rows.length === 0) return { problem: 'it holds no rows' };
    const s = summarizeChunk(rows, 0, 1, footer.timeUnit);
    if (s.rows !== footer.rows) return { problem: `it holds ${s.rows} rows, its footer says ${footer.rows}` };
    if (s.checksum !== footer.keyChecksum) return { problem: 'its key checksum differs from its footer' };
    if (String(s.minKey) !== footer.minKey || String(s.maxKey) !== footer.maxKey) {
      return { problem: `its keys run from ${String(s.minKey)} to ${String(s.maxKey)}, its footer says ${footer.minKey} to ${footer.maxKey}` };
    }
    if (s.minTimeMs !== footer.minTimeMs || s.maxTimeMs !== footer.maxTimeMs) {
      return { problem: `its times run from ${s.minTimeMs} to ${s.maxTimeMs} ms, its footer says ${footer.minTimeMs} to ${footer.maxTimeMs}` };
    }
    if (new Set(s.keys.map(keyText)).size !== s.rows) return { problem: 'it holds a key twice' };
    return { minKey: s.minKey, maxKey: s.maxKey };
  } catch (error) {
    return { problem: `its rows cannot be read: ${(error as Error).message}`, unreadable: true };
  }
}
