/**
 * Durable file output. DuckDB does not fsync what it writes, so tierdb does:
 * fsync the file, rename it into place, fsync the folder.
 */
import { closeSync, fsyncSync, openSync, renameSync } from 'node:fs';
import path from 'node:path';

export function fsyncFile(file: string): void {
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Renames `from` to `to` and makes both folder entries durable. */
export function durableRename(from: string, to: string): void {
  renameSync(from, to);
  fsyncDir(path.dirname(to));
  if (path.dirname(from) !== path.dirname(to)) fsyncDir(path.dirname(from));
}
