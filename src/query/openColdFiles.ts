/**
 * The cold files one query reads, opened through the ColdStore: local paths
 * DuckDB can read (a remote store's verified cached copies), held until the
 * query is done. The bridge opens them after planning and releases them in
 * `finally`.
 */
import type { ColdStore } from '../cold/ColdStore.js';
import type { LiveFile } from './readLiveFiles.js';

export interface ColdFilesForRead {
  /** The planned files, in plan order. */
  readonly files: readonly LiveFile[];
  /** The local path DuckDB reads for `files[i]`. */
  readonly local: readonly string[];
  /** A manifest path as the cold store names it, for messages. */
  describe(path: string): string;
  release(): void;
}

export async function openColdFiles(cold: ColdStore, files: readonly LiveFile[]): Promise<ColdFilesForRead> {
  const read = await cold.openForRead(files.map((f) => ({ path: f.path, bytes: f.bytes, sha256: f.sha256 })));
  let released = false;
  return {
    files,
    local: read.paths,
    describe: (p) => cold.describe(p),
    release: () => {
      if (released) return;
      released = true;
      read.release();
    },
  };
}

/** Several tables' files for one statement, released together. */
export async function openColdFileSets(cold: ColdStore, sets: readonly (readonly LiveFile[])[]): Promise<ColdFilesForRead[]> {
  const opened: ColdFilesForRead[] = [];
  try {
    for (const files of sets) opened.push(await openColdFiles(cold, files));
    return opened;
  } catch (error) {
    for (const o of opened) o.release();
    throw error;
  }
}

/** Several opened sets seen as one (for naming a failed file of any of them). */
export function joinColdFiles(sets: readonly ColdFilesForRead[]): ColdFilesForRead {
  return {
    files: sets.flatMap((s) => s.files),
    local: sets.flatMap((s) => s.local),
    describe: (p) => sets[0]?.describe(p) ?? p,
    release: () => {
      for (const s of sets) s.release();
    },
  };
}
