/**
 * Online backup of the hot file before an archive run (better-sqlite3's backup
 * API), keeping the newest ARCHIVE_BACKUP_KEEP.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';

export async function backupHotFile(raw: Database.Database, dataDir: string, keep: number, now = new Date()): Promise<string> {
  const dir = path.join(dataDir, 'backups');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `hot-${now.toISOString().replace(/[:.]/g, '-')}.db`);
  await raw.backup(file);
  const backups = readdirSync(dir)
    .filter((n) => /^hot-.*\.db$/.test(n))
    .sort();
  for (const old of backups.slice(0, Math.max(0, backups.length - keep))) rmSync(path.join(dir, old), { force: true });
  return file;
}
