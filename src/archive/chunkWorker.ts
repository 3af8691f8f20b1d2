/**
 * The archive worker thread (WorkerChunkProducer starts it): a read-only
 * connection to the hot file and a DuckDB instance of its own, running
 * SameThreadChunkProducer for the chunks the archiver asks for. It only reads
 * SQLite and writes temp files in the staging folder: nothing it does is
 * durable or visible, so a crash anywhere in it is a crash before step 2 of
 * the move protocol.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { DuckDbEngine, type DuckDbEngineOptions } from '../cold/DuckDbEngine.js';
import { faultFires } from './failpoint.js';
import { SameThreadChunkProducer, type ChunkRequest, type StagedInfo } from './ChunkProducer.js';
import type { TableShape } from './TableShape.js';

export interface ChunkWorkerData {
  hotPath: string;
  shape: TableShape;
  zstdLevel: number;
  engine: DuckDbEngineOptions;
}

/** An error as it crosses the thread boundary. */
export interface WorkerError {
  name: string;
  message: string;
  code?: string;
}

export type ToChunkWorker = { kind: 'chunk'; seq: number; request: ChunkRequest } | { kind: 'close' };

export type FromChunkWorker =
  | { kind: 'ready' }
  | { kind: 'staged'; seq: number; info: StagedInfo }
  | { kind: 'written'; seq: number }
  | { kind: 'failed'; seq: number; step: 'staged' | 'written'; error: WorkerError }
  | { kind: 'fatal'; error: WorkerError };

export function toWorkerError(error: unknown): WorkerError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(error) };
}

async function main(): Promise<void> {
  const port = parentPort!;
  const post = (m: FromChunkWorker): void => port.postMessage(m);
  const data = workerData as ChunkWorkerData;
  let raw: Database.Database | undefined;
  let engine: DuckDbEngine | undefined;
  try {
    raw = new Database(data.hotPath, { readonly: true, fileMustExist: true });
    raw.pragma('busy_timeout = 5000');
    engine = await DuckDbEngine.create(data.engine);
  } catch (error) {
    engine?.close();
    raw?.close();
    post({ kind: 'fatal', error: toWorkerError(error) });
    return;
  }
  // A chunk's reading pauses every 512 rows (a few ms), so the writes of the chunks before it go on
  // meanwhile, two at a time. Measured on the 1M-message demo (400 files): the producer alone 11.5 s with one
  // write and a pause per 2,048 rows, 9.9 s with two writes, 9.0 s with two writes and a pause per 512 rows.
  const producer = new SameThreadChunkProducer(engine, raw, data.shape, data.zstdLevel, { pauseEveryRows: 512, lanes: 2 });
  const shutDown = (then: () => void): void => {
    void producer.close().finally(() => {
      engine!.close();
      raw!.close();
      then();
    });
  };
  let exiting = false;
  port.on('message', (m: ToChunkWorker) => {
    if (exiting) return;
    if (m.kind === 'close') {
      shutDown(() => port.close());
      return;
    }
    const { seq } = m;
    if (faultFires('worker-exits')) {
      // The thread ends with this chunk unanswered. Its DuckDB work is let finish and the instance closed
      // first: a thread that exits under a running COPY takes the whole process down (the binding aborts
      // on a Napi::Error), which is a SIGKILL of the archiver - covered by the crash tests - not this fault.
      exiting = true;
      shutDown(() => process.exit(70));
      return;
    }
    // produce only chains promises (it never throws): every failure comes back as a `failed` answer.
    const produced = producer.produce(m.request);
    produced.staged.then(
      (info) => post({ kind: 'staged', seq, info }),
      (error: unknown) => post({ kind: 'failed', seq, step: 'staged', error: toWorkerError(error) }),
    );
    produced.written.then(
      () => post({ kind: 'written', seq }),
      (error: unknown) => post({ kind: 'failed', seq, step: 'written', error: toWorkerError(error) }),
    );
  });
  post({ kind: 'ready' });
}

void main();
