/**
 * Durable file output. DuckDB does not fsync what it writes, so tierdb does:
 * fsync the file, rename it into place, fsync the folder.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
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

/** Creates a folder and its missing parents, and makes each new entry durable. */
export function mkdirDurable(dir: string): void {
  if (existsSync(dir)) return;
  const created: string[] = [];
  for (let d = dir; !existsSync(d); d = path.dirname(d)) created.push(d);
  mkdirSync(dir, { recursive: true });
  // Each new folder's entry lives in its parent: fsync from the deepest parent up.
  for (const d of created) fsyncDir(path.dirname(d));
}

/** fsync on libuv's thread pool: the event loop (and the pipeline) goes on meanwhile. */
export async function fsyncPathAsync(target: string): Promise<void> {
  const handle = await open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** `durableRename` off the event loop: rename, then fsync the target's folder (and the source's, when another). */
export async function durableRenameAsync(from: string, to: string, options: { syncSource?: boolean } = {}): Promise<void> {
  await rename(from, to);
  await fsyncPathAsync(path.dirname(to));
  if ((options.syncSource ?? true) && path.dirname(from) !== path.dirname(to)) await fsyncPathAsync(path.dirname(from));
}

/** `mkdirDurable` off the event loop. */
export async function mkdirDurableAsync(dir: string): Promise<void> {
  if (existsSync(dir)) return;
  const created: string[] = [];
  for (let d = dir; !existsSync(d); d = path.dirname(d)) created.push(d);
  await mkdir(dir, { recursive: true });
  for (const d of created) await fsyncPathAsync(path.dirname(d));
}
