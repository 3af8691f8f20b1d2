import path from 'node:path';
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { vacuumAndTruncateWal } from '../src/change/scrubSqliteFile.js';
import { tempDir } from './helpers.js';

describe('vacuumAndTruncateWal', () => {
  // A backup is scrubbed on a connection with safe integers on: the checkpoint's result comes as BigInts.
  for (const safe of [false, true]) {
    it(`truncates the WAL at the first try and says so (safe integers ${safe ? 'on' : 'off'})`, async () => {
      const file = path.join(tempDir(), 'x.db');
      const db = new Database(file);
      try {
        db.pragma('journal_mode = WAL');
        db.exec('CREATE TABLE t (v TEXT); INSERT INTO t VALUES (hex(randomblob(4000)))');
        db.defaultSafeIntegers(safe);
        const pragma = vi.spyOn(db, 'pragma');
        expect(await vacuumAndTruncateWal(db)).toBe(true);
        // One try: nothing holds the WAL (the BigInt result once made all 50 tries run, 5 s per erased backup).
        const checkpoints = pragma.mock.calls.map(([source]) => source).filter((source) => source.startsWith('wal_checkpoint'));
        expect(checkpoints).toEqual(['wal_checkpoint(TRUNCATE)']);
        expect(statSync(`${file}-wal`).size).toBe(0);
      } finally {
        db.close();
      }
    });
  }
});
