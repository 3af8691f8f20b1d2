/**
 * Recovery, run under the archiver lease at open and at the start of every
 * run: temp files removed, files in the tree but not in the manifest removed
 * (their rows are still hot), retired files unlinked once old enough.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { TMP_DIR, absoluteColdPath } from '../cold/coldLayout.js';
import { allManifestPaths, bumpManifestVersion, type ManifestFile } from './manifest.js';

/** How long a retired file stays on disk, so queries that listed it can finish. */
export const RETIRED_FILE_TTL_MS = 10 * 60_000;

export interface RecoveryReport {
  tmpRemoved: number;
  orphansRemoved: string[];
  retiredUnlinked: number;
  crashedRuns: number;
}

function walkParquet(dir: string, rel: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) {
      if (rel === '' && entry.name === TMP_DIR) continue;
      walkParquet(path.join(dir, entry.name), childRel, out);
    } else if (entry.name.endsWith('.parquet')) out.push(childRel);
  }
}

/** Uses the wall clock, never a run's `now`: retired files must outlive real queries. */
export function recover(raw: Database.Database, coldDir: string): RecoveryReport {
  const now = Date.now();
  const report: RecoveryReport = { tmpRemoved: 0, orphansRemoved: [], retiredUnlinked: 0, crashedRuns: 0 };
  const tmp = path.join(coldDir, TMP_DIR);
  if (existsSync(tmp)) {
    for (const name of readdirSync(tmp)) {
      rmSync(path.join(tmp, name), { force: true, recursive: true });
      report.tmpRemoved++;
    }
  }
  if (existsSync(coldDir)) {
    const known = allManifestPaths(raw);
    const found: string[] = [];
    walkParquet(coldDir, '', found);
    for (const rel of found) {
      if (known.has(rel)) continue;
      rmSync(absoluteColdPath(coldDir, rel), { force: true });
      report.orphansRemoved.push(rel);
    }
  }
  const retired = raw
    .prepare(`SELECT * FROM _tierdb_files WHERE state = 'retired' AND retired_at_ms <= ?`)
    .all(now - RETIRED_FILE_TTL_MS) as ManifestFile[];
  for (const f of retired) {
    rmSync(absoluteColdPath(coldDir, f.path), { force: true });
    raw.prepare('DELETE FROM _tierdb_files WHERE id = ?').run(f.id);
    report.retiredUnlinked++;
  }
  if (retired.length > 0) bumpManifestVersion(raw);
  report.crashedRuns = raw
    .prepare(`UPDATE _tierdb_runs SET status = 'crashed', ended_at_ms = ? WHERE status = 'running' AND pid != ?`)
    .run(now, process.pid).changes;
  return report;
}
