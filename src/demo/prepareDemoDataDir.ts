/**
 * Makes the data folder fresh for the demo, without ever deleting what tierdb
 * did not make: only the hot file (and its -wal/-shm/-journal) and the cold
 * tree are removed, and only when the hot file is a tierdb demo database.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { TierConfig } from '../config.js';
import { TierError } from '../errors.js';
import { DEMO_TABLES } from './generateDemoData.js';

const HOT_FILE_SUFFIXES = ['', '-wal', '-shm', '-journal'];

/** Tables a tierdb demo database may hold besides the demo tables. */
function isTierdbTable(name: string): boolean {
  return name.startsWith('_tierdb_') || name.startsWith('sqlite_') || name === '__drizzle_migrations';
}

/** Throws unless `file` is a SQLite database holding only tierdb's and the demo's tables. */
export function assertDemoHotFile(file: string): void {
  let db: Database.Database | undefined;
  let tables: string[];
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    tables = (db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name);
  } catch (cause) {
    throw new TierError('TIERDB_DEMO_REFUSED', `refusing to replace ${file}: it is not a readable SQLite database (${(cause as Error).message})`, { cause });
  } finally {
    db?.close();
  }
  if (tables.length === 0) return;
  const foreign = tables.filter((t) => !isTierdbTable(t) && !(DEMO_TABLES as readonly string[]).includes(t));
  if (!tables.includes('_tierdb_migrations') || foreign.length > 0) {
    throw new TierError(
      'TIERDB_DEMO_REFUSED',
      `refusing to replace ${file}: it is not a tierdb demo database` +
        (foreign.length > 0 ? ` (it holds ${foreign.join(', ')})` : ' (no _tierdb_migrations table)') +
        '; point --data-dir at a new folder',
    );
  }
}

/**
 * Creates the data folder, or clears the demo's files out of it. Returns the
 * paths it removed.
 */
export function prepareDemoDataDir(config: Pick<TierConfig, 'dataDir' | 'hotPath' | 'coldDir'>): string[] {
  const { dataDir, hotPath, coldDir } = config;
  if (existsSync(dataDir) && !statSync(dataDir).isDirectory()) {
    throw new TierError('TIERDB_DEMO_REFUSED', `the data folder ${dataDir} is a file, not a folder`);
  }
  mkdirSync(dataDir, { recursive: true });
  const hotExists = existsSync(hotPath);
  if (hotExists) assertDemoHotFile(hotPath);
  else if (existsSync(coldDir) && readdirSync(coldDir).length > 0) {
    throw new TierError('TIERDB_DEMO_REFUSED', `refusing to remove ${coldDir}: there is no hot database next to it, so it may not be tierdb's`);
  }
  const removed: string[] = [];
  for (const suffix of HOT_FILE_SUFFIXES) {
    const file = hotPath + suffix;
    if (existsSync(file)) {
      rmSync(file);
      removed.push(file);
    }
  }
  if (existsSync(coldDir)) {
    rmSync(coldDir, { recursive: true });
    removed.push(coldDir);
  }
  return removed;
}
