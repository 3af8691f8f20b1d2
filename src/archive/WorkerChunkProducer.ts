/**
 * A ChunkProducer on a worker thread (chunkWorker): the archiver's thread asks
 * for each chunk by message and hears back when it is staged and when its temp
 * file is written. The worker has its own read-only connection, so its reads
 * start after the archiver took `PRAGMA data_version` for the chunk and never
 * move that value; the drain's check holds as on one thread.
 *
 * From the source tree (tests, tsx) the TypeScript worker is compiled by jiti;
 * from dist/ it is plain chunkWorker.js.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ChunkProducer, ChunkRequest, ProducedChunk, StagedInfo } from './ChunkProducer.js';
import type { ChunkWorkerData, FromChunkWorker, ToChunkWorker, WorkerError } from './chunkWorker.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Awaited by the archiver; never an unhandled rejection meanwhile.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

function fromWorkerError(e: WorkerError): Error {
  const error = new Error(e.message);
  error.name = e.name;
  if (e.code !== undefined) Object.assign(error, { code: e.code });
  return error;
}

function spawn(data: ChunkWorkerData): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const jiti = createRequire(here).resolve('jiti');
    const entry = fileURLToPath(new URL('./chunkWorker.ts', here));
    const code = `require(${JSON.stringify(jiti)}).createJiti(${JSON.stringify(entry)}).import(${JSON.stringify(entry)})`;
    return new Worker(code, { eval: true, workerData: data });
  }
  return new Worker(new URL('./chunkWorker.js', here), { workerData: data });
}

export class WorkerChunkProducer implements ChunkProducer {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { staged: Deferred<StagedInfo>; written: Deferred<void>; stagedDone: boolean; writtenDone: boolean }>();
  readonly #exited: Promise<void>;
  #seq = 0;
  /** Why the worker can take no more chunks (it failed, exited or was closed). */
  #stopped: Error | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (m: FromChunkWorker) => this.#receive(m));
    this.#exited = new Promise((resolve) => {
      worker.once('error', (error) => this.#stop(new Error(`the archive worker thread failed: ${error.message}`)));
      worker.once('exit', (code) => {
        this.#stop(new Error(`the archive worker thread exited (code ${code})`));
        resolve();
      });
    });
  }

  /** Starts the worker; resolves once it has opened the hot file and its DuckDB instance. */
  static async start(data: ChunkWorkerData): Promise<WorkerChunkProducer> {
    const worker = spawn(data);
    const producer = new WorkerChunkProducer(worker);
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromChunkWorker): void => {
        if (m.kind === 'ready') resolve();
        else if (m.kind === 'fatal') reject(fromWorkerError(m.error));
        else return;
        worker.off('message', onMessage);
      };
      worker.on('message', onMessage);
      void producer.#exited.then(() => reject(producer.#stopped));
    }).catch(async (error: unknown) => {
      await worker.terminate();
      throw error;
    });
    return producer;
  }

  produce(request: ChunkRequest): ProducedChunk {
    const seq = ++this.#seq;
    const job = { staged: deferred<StagedInfo>(), written: deferred<void>(), stagedDone: false, writtenDone: false };
    if (this.#stopped) {
      job.staged.reject(this.#stopped);
      job.written.resolve();
    } else {
      this.#pending.set(seq, job);
      this.#worker.postMessage({ kind: 'chunk', seq, request } satisfies ToChunkWorker);
    }
    return { staged: job.staged.promise, written: job.written.promise };
  }

  /**
   * Lets the chunks asked for finish, then ends the worker. There is no "terminate at once": a worker thread
   * stopped under a running DuckDB COPY aborts the whole process (the binding throws a Napi::Error at teardown).
   */
  async close(): Promise<void> {
    if (!this.#stopped) this.#worker.postMessage({ kind: 'close' } satisfies ToChunkWorker);
    await this.#exited;
  }

  #receive(m: FromChunkWorker): void {
    if (m.kind === 'ready' || m.kind === 'fatal') {
      if (m.kind === 'fatal') this.#stop(fromWorkerError(m.error));
      return;
    }
    const job = this.#pending.get(m.seq);
    if (!job) return;
    // The two answers of a chunk may come in either order (a chunk that writes nothing is "written" at once).
    if (m.kind === 'staged') {
      job.staged.resolve(m.info);
      job.stagedDone = true;
    } else if (m.kind === 'written') {
      job.written.resolve();
      job.writtenDone = true;
    } else if (m.step === 'staged') {
      job.staged.reject(fromWorkerError(m.error));
      job.stagedDone = true;
    } else {
      job.written.reject(fromWorkerError(m.error));
      job.writtenDone = true;
    }
    if (job.stagedDone && job.writtenDone) this.#pending.delete(m.seq);
  }

  /** Every chunk still waiting fails with `error`. */
  #stop(error: Error): void {
    this.#stopped ??= error;
    for (const job of this.#pending.values()) {
      job.staged.reject(error);
      job.written.reject(error);
    }
    this.#pending.clear();
  }
}
