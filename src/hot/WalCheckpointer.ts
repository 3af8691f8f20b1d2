/**
 * Checkpoints the hot file's WAL on a worker thread while an archive run
 * drains rows. The drain commits many short transactions; with SQLite's
 * automatic checkpoint each of them would copy its pages back into the
 * database file and fsync twice on the committing thread (most of a drain's
 * cost), and an app writer committing just after would do that work inside its
 * own INSERT. Here the archiver's connection turns its automatic checkpoint
 * off and one worker runs PASSIVE checkpoints back to back (they never block
 * readers or writers): the WAL stays short, the app's writers mostly find the
 * checkpoint taken or the log already reset, and the archiver's thread only
 * writes its WAL frames. Durability is SQLite's own: the checkpoint syncs the
 * WAL before copying and the database after.
 *
 * The worker is inline code (`eval`), so it runs the same from the source
 * tree and from dist/; it loads better-sqlite3 by its resolved path.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const stop = new Int32Array(workerData.stop);
let db;
try {
  db = new Database(workerData.file, { fileMustExist: true });
  db.pragma('busy_timeout = 0');
  while (Atomics.load(stop, 0) === 0) {
    let moved = 0;
    try {
      const [r] = db.pragma('wal_checkpoint(PASSIVE)');
      moved = r && r.log > 0 ? r.log : 0;
    } catch (error) {
      if (!/SQLITE_BUSY|locked/i.test(String(error && error.code) + String(error && error.message))) throw error;
    }
    // Nothing to copy: wait a little (or until told to stop).
    if (moved === 0) Atomics.wait(stop, 0, 0, 5);
    else Atomics.wait(stop, 0, 0, 1);
  }
} catch (error) {
  parentPort.postMessage({ error: String(error && error.stack || error) });
} finally {
  if (db) db.close();
}
`;

export class WalCheckpointer {
  readonly #raw: Database.Database;
  readonly #worker: Worker;
  readonly #stop: Int32Array;
  readonly #exited: Promise<void>;
  readonly #previous: number;
  #error: string | undefined;

  private constructor(raw: Database.Database) {
    this.#raw = raw;
    const shared = new SharedArrayBuffer(4);
    this.#stop = new Int32Array(shared);
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(WORKER, { eval: true, workerData: { file: raw.name, driver, stop: shared } });
    this.#worker.on('message', (m: { error?: string }) => {
      if (m.error) this.#error = m.error;
    });
    this.#exited = new Promise((resolve) => {
      this.#worker.once('exit', () => resolve());
      this.#worker.once('error', (error) => {
        this.#error = String(error);
        resolve();
      });
    });
    this.#worker.unref();
    this.#previous = raw.pragma('wal_autocheckpoint', { simple: true }) as number;
    raw.pragma('wal_autocheckpoint = 0');
  }

  /** Starts checkpointing `raw`'s file (a WAL database on disk); undefined for an in-memory or non-WAL one. */
  static start(raw: Database.Database): WalCheckpointer | undefined {
    if (raw.memory || raw.readonly) return undefined;
    if (String(raw.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') return undefined;
    return new WalCheckpointer(raw);
  }

  /** Stops the worker and gives the connection its automatic checkpoint back. Never throws: a failed worker only means the WAL was checkpointed later. */
  async stop(): Promise<string | undefined> {
    if (Atomics.load(this.#stop, 0) === 1) {
      this.#worker.ref();
      await this.#exited;
      return this.#error;
    }
    Atomics.store(this.#stop, 0, 1);
    Atomics.notify(this.#stop, 0);
    // Unreferenced while it runs (it must not keep a process alive); referenced while we wait for it to end.
    this.#worker.ref();
    await this.#exited;
    if (this.#raw.open) this.#raw.pragma(`wal_autocheckpoint = ${this.#previous}`);
    return this.#error;
  }
}
