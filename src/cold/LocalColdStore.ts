/**
 * The cold tree in a local folder (the default): `<dataDir>/cold`, staging in
 * `<cold>/_tmp`. Files are made durable the way DuckDB does not do itself:
 * fsync the file, rename it into place, fsync the folders.
 */
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ColdStoreError } from '../errors.js';
import { ICEBERG_DIR, TMP_DIR } from './coldLayout.js';
import type { ColdFileRef, ColdObjectInfo, ColdReadHandle, ColdStore } from './ColdStore.js';
import { durableRename, durableRenameAsync, fsyncDir, fsyncFile, fsyncPathAsync, mkdirDurable, mkdirDurableAsync } from './fsyncFile.js';

export class LocalColdStore implements ColdStore {
  readonly kind = 'local';
  readonly location: string;
  readonly stagingDir: string;
  readonly readableDirs: readonly string[];
  readonly orphanSafetyAgeMs = 0;

  constructor(root: string) {
    this.location = path.resolve(root);
    this.stagingDir = path.join(this.location, TMP_DIR);
    this.readableDirs = [this.location];
  }

  /** The absolute path of a manifest path. */
  absolute(rel: string): string {
    return path.join(this.location, ...rel.split('/'));
  }

  describe(rel: string): string {
    return this.absolute(rel);
  }

  async put(localFile: string, rel: string, expect: { bytes: number; sha256: string }): Promise<void> {
    const abs = this.absolute(rel);
    try {
      const size = statSync(localFile).size;
      if (size !== expect.bytes) throw new Error(`${localFile} has ${size} bytes, expected ${expect.bytes}`);
      // The one fsync of the file's bytes (writeChunk does not sync the temp file itself), then the
      // rename made durable; on the thread pool, so the archiver's pipeline reads and drains meanwhile.
      await Promise.all([fsyncPathAsync(localFile), mkdirDurableAsync(path.dirname(abs))]);
      // The staging folder's entry need not be durable: a temp file a crash leaves is removed by recovery.
      await durableRenameAsync(localFile, abs, { syncSource: false });
    } catch (cause) {
      if (cause instanceof ColdStoreError) throw cause;
      throw new ColdStoreError(this.location, `cannot put ${abs} into the cold folder ${this.location}: ${(cause as Error).message}`, { cause });
    }
  }

  async openForRead(files: readonly ColdFileRef[]): Promise<ColdReadHandle> {
    return { paths: files.map((f) => this.absolute(f.path)), release: () => undefined };
  }

  async stat(rel: string): Promise<ColdObjectInfo | undefined> {
    try {
      const s = await stat(this.absolute(rel));
      return s.isFile() ? { path: rel, bytes: s.size, mtimeMs: s.mtimeMs } : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async list(prefix = ''): Promise<ColdObjectInfo[]> {
    const out: ColdObjectInfo[] = [];
    if (!existsSync(this.location)) return out;
    const walk = async (dir: string, rel: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
        if (entry.isDirectory()) {
          if ((rel === '' && entry.name === TMP_DIR) || entry.name === ICEBERG_DIR) continue;
          if (prefix !== '' && !(`${childRel}/`.startsWith(prefix) || prefix.startsWith(`${childRel}/`))) continue;
          await walk(path.join(dir, entry.name), childRel);
        } else if (entry.name.endsWith('.parquet') && childRel.startsWith(prefix)) {
          const s = await stat(path.join(dir, entry.name));
          out.push({ path: childRel, bytes: s.size, mtimeMs: s.mtimeMs });
        }
      }
    };
    await walk(this.location, '');
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async delete(rel: string): Promise<void> {
    await rm(this.absolute(rel), { force: true });
  }

  async readText(rel: string): Promise<string | undefined> {
    const abs = this.absolute(rel);
    if (!existsSync(abs)) return undefined;
    return readFileSync(abs, 'utf8');
  }

  async writeText(rel: string, text: string): Promise<void> {
    const abs = this.absolute(rel);
    const tmp = `${abs}.${process.pid}.tmp`;
    try {
      mkdirDurable(path.dirname(abs));
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, text);
      } finally {
        closeSync(fd);
      }
      fsyncFile(tmp);
      durableRename(tmp, abs);
      fsyncDir(path.dirname(abs));
    } catch (cause) {
      rmSync(tmp, { force: true });
      throw new ColdStoreError(this.location, `cannot write ${abs}: ${(cause as Error).message}`, { cause });
    }
  }

  async close(): Promise<void> {}
}
