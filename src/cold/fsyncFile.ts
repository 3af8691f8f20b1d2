/**
 * Durable file output. DuckDB does not fsync what it writes, so tierdb does:
 * fsync the file, rename it into place, fsync the folder.
 */
import { closeSync, fsyncSync, openSync, renameSync } from 'node:fs';
import path from 'node:path';

/** fsync a file or a folder (a folder's fsync makes its entries durable). */
export function fsyncPath(target: string): void {
  const fd = openSync(target, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export const fsyncFile = fsyncPath;
export const fsyncDir = fsyncPath;

/** Renames `from` to `to` and makes both folder entries durable. */
export function durableRename(from: string, to: string): void {
  renameSync(from, to);
  fsyncDir(path.dirname(to));
  if (path.dirname(from) !== path.dirname(to)) fsyncDir(path.dirname(from));
}
