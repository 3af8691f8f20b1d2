/**
 * One DuckDB connection that runs one operation at a time, in call order. A
 * connection is not safe to use from two queries at once; the archiver's
 * side work (reading a written file back, a drain's comparison rows) shares
 * one such lane beside the engine's main connection, which writes.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

export class ConnectionLane {
  readonly #connect: () => Promise<DuckDBConnection>;
  #con: Promise<DuckDBConnection> | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** `connect` opens the connection, at the first `run`. */
  constructor(connect: () => Promise<DuckDBConnection>) {
    this.#connect = connect;
  }

  /** Runs `f` once every earlier `run` has settled; refused once `close` was called. A failed connect is tried again by the next run. */
  run<T>(f: (con: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('internal: a DuckDB connection lane was used after close'));
    const next = this.#tail.then(async () => {
      this.#con ??= this.#connect().catch((error: unknown) => {
        this.#con = undefined;
        throw error;
      });
      return f(await this.#con);
    });
    this.#tail = next.catch(() => undefined);
    return next;
  }

  /** Closes the connection (if one was opened) once every `run` has settled. Never throws. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#tail;
    const con = this.#con;
    this.#con = undefined;
    if (con) await con.then((c) => c.closeSync()).catch(() => undefined);
  }
}
