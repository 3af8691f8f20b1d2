import path from 'node:path';
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
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
        const started = Date.now();
        expect(await vacuumAndTruncateWal(db)).toBe(true);
        // One try, no 100 ms retry sleeps (50 of them made every erase with a backup wait 5 s).
        expect(Date.now() - started).toBeLessThan(1_000);
        expect(statSync(`${file}-wal`).size).toBe(0);
      } finally {
        db.close();
      }
    });
  }
});
