/**
 * The ColdStore contract, run against every implementation (today the local
 * folder; an object-storage store joins the list): what the archiver,
 * recovery, validate and the bridge rely on.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ColdStore } from '../src/cold/ColdStore.js';
import { LocalColdStore } from '../src/cold/LocalColdStore.js';
import { fileSha256 } from '../src/cold/fileSha256.js';
import { mkdirDurable } from '../src/cold/fsyncFile.js';
import { ColdStoreError } from '../src/errors.js';
import { createColdStore } from '../src/cold/createColdStore.js';
import { tempDir, testConfig } from './helpers.js';
import { startS3Server } from './s3Server.js';

const implementations: { name: string; make: () => Promise<ColdStore> }[] = [
  { name: 'LocalColdStore', make: async () => new LocalColdStore(path.join(tempDir(), 'cold')) },
  {
    name: 'S3ColdStore (s3rver on 127.0.0.1)',
    make: async () => {
      const server = await startS3Server();
      const dir = tempDir();
      return createColdStore(testConfig(dir, server.env('contract/tree')));
    },
  },
];

async function staged(store: ColdStore, name: string, text: string): Promise<{ file: string; bytes: number; sha256: string }> {
  mkdirDurable(store.stagingDir);
  const file = path.join(store.stagingDir, name);
  writeFileSync(file, text);
  return { file, bytes: Buffer.byteLength(text), sha256: await fileSha256(file) };
}

for (const impl of implementations) {
  describe(`ColdStore contract: ${impl.name}`, () => {
    it('put makes a staged file readable at its manifest path and consumes the staged copy; stat, list and delete agree', async () => {
      const store = await impl.make();
      const a = await staged(store, 'a.tmp', 'first file');
      await store.put(a.file, 'events/year=2026/month=01/part-1-1-aaaaaaaa.parquet', { bytes: a.bytes, sha256: a.sha256 });
      expect(existsSync(a.file)).toBe(false);
      const b = await staged(store, 'b.tmp', 'second');
      await store.put(b.file, 'logs/year=2026/part-2-1-bbbbbbbb.parquet', { bytes: b.bytes, sha256: b.sha256 });

      const stat = await store.stat('events/year=2026/month=01/part-1-1-aaaaaaaa.parquet');
      expect(stat).toMatchObject({ path: 'events/year=2026/month=01/part-1-1-aaaaaaaa.parquet', bytes: a.bytes });
      expect(await store.stat('events/nope.parquet')).toBeUndefined();
      expect((await store.list()).map((o) => o.path)).toEqual(['events/year=2026/month=01/part-1-1-aaaaaaaa.parquet', 'logs/year=2026/part-2-1-bbbbbbbb.parquet']);
      expect((await store.list('logs/')).map((o) => o.path)).toEqual(['logs/year=2026/part-2-1-bbbbbbbb.parquet']);

      const read = await store.openForRead([{ path: 'logs/year=2026/part-2-1-bbbbbbbb.parquet', bytes: b.bytes, sha256: b.sha256 }]);
      try {
        expect(readFileSync(read.paths[0]!, 'utf8')).toBe('second');
        expect(store.readableDirs.some((d) => path.resolve(read.paths[0]!).startsWith(path.resolve(d) + path.sep))).toBe(true);
      } finally {
        read.release();
      }
      await store.delete('logs/year=2026/part-2-1-bbbbbbbb.parquet');
      await store.delete('logs/year=2026/part-2-1-bbbbbbbb.parquet'); // already gone: not an error
      expect((await store.list()).map((o) => o.path)).toEqual(['events/year=2026/month=01/part-1-1-aaaaaaaa.parquet']);
      await store.close();
    });

    it('list skips the staging folder and non-Parquet objects; text objects round-trip and are replaced atomically', async () => {
      const store = await impl.make();
      await staged(store, 'pending.parquet', 'a temp file');
      expect(await store.list()).toEqual([]);
      expect(await store.readText('_tierdb_store.json')).toBeUndefined();
      await store.writeText('_tierdb_store.json', '{"storeId":"one"}\n');
      await store.writeText('_tierdb_store.json', '{"storeId":"two"}\n');
      expect(await store.readText('_tierdb_store.json')).toBe('{"storeId":"two"}\n');
      expect(await store.list()).toEqual([]);
      await store.close();
    });

    it('a put whose staged file does not have the expected size fails naming the place, and leaves nothing in the tree', async () => {
      const store = await impl.make();
      const a = await staged(store, 'a.tmp', 'twelve bytes');
      await expect(store.put(a.file, 'events/part-1-1-aaaaaaaa.parquet', { bytes: a.bytes + 1, sha256: a.sha256 })).rejects.toThrow(ColdStoreError);
      await expect(store.put(a.file, 'events/part-1-1-aaaaaaaa.parquet', { bytes: a.bytes + 1, sha256: a.sha256 })).rejects.toThrow(/events\/part-1-1-aaaaaaaa\.parquet/);
      expect(await store.list()).toEqual([]);
      await store.close();
    });
  });
}
