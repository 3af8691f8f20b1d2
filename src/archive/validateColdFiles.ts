/**
 * Checks every live (and pending) cold file against its manifest row: it
 * exists, has the recorded size, its footer is readable, and its row count and
 * key checksum match. Reads only; repairs nothing.
 */
import { existsSync, statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { absoluteColdPath } from '../cold/coldLayout.js';
import type { DuckDbEngine } from '../cold/DuckDbEngine.js';
import { readBackKeys, readFooterMetadata } from '../cold/ParquetChunkWriter.js';
import { listFiles, type ManifestFile } from '../manifest/manifestFiles.js';

export interface FileProblem {
  table: string;
  path: string;
  problem: string;
}

export interface ValidationReport {
  filesChecked: number;
  rowsChecked: number;
  problems: FileProblem[];
}

export async function validateColdFiles(
  raw: Database.Database,
  engine: DuckDbEngine,
  coldDir: string,
  options: { table?: string; onFile?: (done: number, total: number) => void } = {},
): Promise<ValidationReport> {
  const files = listFiles(raw, options.table, ['live', 'pending']);
  const report: ValidationReport = { filesChecked: 0, rowsChecked: 0, problems: [] };
  for (const f of files) {
    const abs = absoluteColdPath(coldDir, f.path);
    report.filesChecked++;
    options.onFile?.(report.filesChecked, files.length);
    const issues = await checkFile(engine, abs, f);
    if (issues.length > 0) report.problems.push({ table: f.table_name, path: abs, problem: issues.join('; ') });
    else report.rowsChecked += f.rows;
  }
  return report;
}

/** The problems of one file, empty when it matches its manifest row. */
async function checkFile(engine: DuckDbEngine, abs: string, f: ManifestFile): Promise<string[]> {
  if (!existsSync(abs)) return ['missing: the manifest lists it but it is not on disk'];
  const issues: string[] = [];
  const size = statSync(abs).size;
  if (size !== f.bytes) issues.push(`size ${size} bytes, the manifest says ${f.bytes}`);
  try {
    const meta = await readFooterMetadata(engine, abs);
    if (meta['tierdb.table'] !== undefined && meta['tierdb.table'] !== f.table_name) {
      issues.push(`footer names table ${meta['tierdb.table']}, the manifest says ${f.table_name}`);
    }
    const keyColumn = meta['tierdb.key_column'];
    if (keyColumn === undefined) return [...issues, 'footer has no tierdb.key_column metadata'];
    const back = await readBackKeys(engine, abs, keyColumn);
    if (back.rows !== f.rows) issues.push(`${back.rows} rows, the manifest says ${f.rows}`);
    else if (back.checksum !== f.checksum) issues.push('key checksum differs from the manifest');
  } catch (error) {
    issues.push(`unreadable: ${(error as Error).message}`);
  }
  return issues;
}
