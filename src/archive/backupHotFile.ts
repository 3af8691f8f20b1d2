/**
 * Online backup of the hot file before an archive run (better-sqlite3's backup
 * API), keeping the newest ARCHIVE_BACKUP_KEEP.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';

const backupsDir = (dataDir: string): string => path.join(dataDir, 'backups');

/** The hot-file backups, oldest first (absolute paths; none when the folder does not exist). */
export function listBackups(dataDir: string): string[] {
  const dir = backupsDir(dataDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => /^hot-.*\.db$/.test(n)).sort().map((n) => path.join(dir, n));
}

export async function backupHotFile(raw: Database.Database, dataDir: string, keep: number, now = new Date()): Promise<string> {
  const dir = backupsDir(dataDir);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `hot-${now.toISOString().replace(/[:.]/g, '-')}.db`);
  await raw.backup(file);
  const backups = listBackups(dataDir);
  for (const old of backups.slice(0, Math.max(0, backups.length - keep))) rmSync(old, { force: true });
  return file;
}
