/**
 * Streaming JSONL ingest into `messages`, resumable after a crash.
 *
 * The file is read in chunks and split on '\n' at exact byte offsets. Each
 * batch goes through `appendMessages` in one transaction that also stores the
 * checkpoint `ingest:<absolute path>` = {offset, line, rejectsBytes} in
 * `_tierdb_checkpoints`: rows and offset commit together. Rejected lines (not
 * JSON, or an invalid row) are appended to `<input>.rejects.jsonl` as
 * {line, reason, text} and fsynced before that commit; a resumed run first
 * truncates the rejects file to the checkpoint's `rejectsBytes`, so a crash
 * between the two never duplicates a reject.
 */
import { isUtf8 } from 'node:buffer';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { open, stat, truncate, unlink } from 'node:fs/promises';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { ColdKeyIndex } from '../../cold/ColdKeyIndex.js';
import { TierError } from '../../errors.js';
import { appendMessagesChecked } from './appendMessages.js';
import { parseJsonLine } from './parseJsonLine.js';

export interface IngestOptions {
  /** Lines (blank lines not counted) per transaction. Default 1000. */
  batchSize?: number;
  /** Forget the checkpoint and the rejects file and start from the first byte. */
  restart?: boolean;
  /** Stops between batches (what is committed stays committed); the call then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called after every committed batch (and once at the start) with bytes done and the file size. */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

export interface IngestResult {
  /** Non-blank lines processed by this call (= inserted + duplicates + rejected). */
  lines: number;
  inserted: number;
  duplicates: number;
  /** Lines rejected by this call; each is in the rejects file. */
  rejected: number;
  rejectsPath: string;
  /** Where this call started: 0 for a fresh start, else the checkpoint's byte offset. */
  resumedFromByte: number;
}

/** The checkpoint value stored as JSON. */
export interface IngestCheckpoint {
  /** Bytes of the input consumed (always at a line boundary, or the end of the file). */
  offset: number;
  /** Lines consumed (blank ones included): the next line is `line + 1`. */
  line: number;
  /** Size of the rejects file that goes with this offset. */
  rejectsBytes: number;
}

/**
 * What ingestJsonl writes into: a store, a HotStore or a raw better-sqlite3 handle.
 * Only a store (or its HotStore) can dedupe against the cold tier; a raw handle
 * refuses a batch whose msg_ids fall inside a cold file's key range.
 */
export type IngestTarget =
  | Database.Database
  | { raw: Database.Database; coldKeys?: ColdKeyIndex | undefined }
  | { hot: { raw: Database.Database; coldKeys?: ColdKeyIndex | undefined } };

const CHUNK_BYTES = 1 << 20;
const NEWLINE = 0x0a;

function handles(target: IngestTarget): { raw: Database.Database; coldKeys: ColdKeyIndex | undefined } {
  if ('hot' in target) return { raw: target.hot.raw, coldKeys: target.hot.coldKeys };
  if ('raw' in target) return { raw: target.raw, coldKeys: target.coldKeys };
  return { raw: target, coldKeys: undefined };
}

/** A full disk, named with the file that could not grow and what was kept. */
function toDiskFullError(error: unknown, inputPath: string, hotPath: string, rejectsPath: string, committed: IngestCheckpoint): unknown {
  const cause = error instanceof TierError && error.code === 'TIERDB_DISK_FULL' ? error.cause : error;
  const code = (cause as { code?: unknown }).code;
  if (code !== 'SQLITE_FULL' && code !== 'ENOSPC') return error;
  const file = code === 'SQLITE_FULL' ? `the hot database ${hotPath}` : `the rejects file ${rejectsPath}`;
  return new TierError(
    'TIERDB_DISK_FULL',
    `disk full while ingesting ${inputPath}: ${file} could not be written. Nothing past the last checkpoint ` +
      `(line ${committed.line}, byte ${committed.offset}) was committed. Free space and run the same ingest again to resume from there`,
    { cause },
  );
}

export function checkpointName(filePath: string): string {
  return `ingest:${path.resolve(filePath)}`;
}

export function rejectsPathFor(filePath: string): string {
  return `${path.resolve(filePath)}.rejects.jsonl`;
}

function readCheckpoint(raw: Database.Database, name: string): IngestCheckpoint | undefined {
  const value = raw.prepare('SELECT value FROM _tierdb_checkpoints WHERE name = ?').pluck().get(name) as string | undefined;
  if (value === undefined) return undefined;
  let parsed: Partial<IngestCheckpoint>;
  try {
    parsed = JSON.parse(value) as Partial<IngestCheckpoint>;
  } catch (cause) {
    throw new TierError('TIERDB_INGEST_CHECKPOINT', `the checkpoint ${name} is not JSON; rerun with --restart`, { cause });
  }
  const ok = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
  if (!ok(parsed.offset) || !ok(parsed.line) || !ok(parsed.rejectsBytes)) {
    throw new TierError('TIERDB_INGEST_CHECKPOINT', `the checkpoint ${name} is malformed (${value}); rerun with --restart`);
  }
  return { offset: parsed.offset, line: parsed.line, rejectsBytes: parsed.rejectsBytes };
}

async function truncateRejects(file: string, bytes: number): Promise<void> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (bytes === 0) return;
    throw new TierError('TIERDB_INGEST_CHECKPOINT', `the rejects file ${file} is missing but the checkpoint says it holds ${bytes} bytes; rerun with --restart`);
  }
  if (size < bytes) {
    throw new TierError('TIERDB_INGEST_CHECKPOINT', `the rejects file ${file} has ${size} bytes but the checkpoint says ${bytes}; rerun with --restart`);
  }
  if (bytes === 0) await unlink(file);
  else if (size > bytes) await truncate(file, bytes);
}

interface PendingLine {
  line: number;
  text: string;
  /** Set when the bytes are not UTF-8: the line is rejected, never stored altered. */
  notUtf8?: true;
}

/**
 * Ingests a JSONL file of message rows into the hot store, resuming from its
 * checkpoint. Blank lines are skipped; a last line without '\n' is processed.
 * A file already done is a no-op that reports `resumedFromByte` = its size.
 *
 * @example
 * const r = await ingestJsonl(store, 'messages.jsonl', { batchSize: 1000 });
 * // { lines, inserted, duplicates, rejected, rejectsPath, resumedFromByte }
 */
export async function ingestJsonl(target: IngestTarget, filePath: string, options: IngestOptions = {}): Promise<IngestResult> {
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new TierError('TIERDB_ARGUMENT', `batchSize must be a whole number >= 1, got ${batchSize}`);
  const { raw, coldKeys } = handles(target);
  const inputPath = path.resolve(filePath);
  const name = checkpointName(inputPath);
  const rejectsPath = rejectsPathFor(inputPath);
  options.signal?.throwIfAborted();

  const input = await open(inputPath, 'r').catch((cause: NodeJS.ErrnoException) => {
    throw new TierError('TIERDB_INGEST_INPUT', `cannot open ${inputPath}: ${cause.message}`, { cause });
  });
  let rejectsFd: number | undefined;
  try {
    const size = (await input.stat()).size;
    if (options.restart) raw.prepare('DELETE FROM _tierdb_checkpoints WHERE name = ?').run(name);
    const checkpoint = readCheckpoint(raw, name) ?? { offset: 0, line: 0, rejectsBytes: 0 };
    if (checkpoint.offset > size) {
      throw new TierError(
        'TIERDB_INGEST_CHECKPOINT',
        `the checkpoint for ${inputPath} is at byte ${checkpoint.offset} but the file has only ${size} bytes (was it replaced or truncated?); rerun with --restart to ingest it from the start`,
      );
    }
    // Rejects written after the last commit belong to rows that were rolled back: drop them.
    await truncateRejects(rejectsPath, options.restart ? 0 : checkpoint.rejectsBytes);

    const result: IngestResult = { lines: 0, inserted: 0, duplicates: 0, rejected: 0, rejectsPath, resumedFromByte: checkpoint.offset };
    const upsert = raw.prepare(
      `INSERT INTO _tierdb_checkpoints (name, value, updated_at_ms) VALUES (?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated_at_ms = excluded.updated_at_ms`,
    );
    let offset = checkpoint.offset; // committed
    let rejectsBytes = checkpoint.rejectsBytes; // committed
    options.onProgress?.(offset, size);

    const appendRejects = (records: { line: number; reason: string; text: string }[]): number => {
      if (records.length === 0) return 0;
      if (rejectsFd === undefined) {
        rejectsFd = openSync(rejectsPath, 'a');
        // A new file's directory entry must survive a crash too.
        const dir = openSync(path.dirname(rejectsPath), 'r');
        try {
          fsyncSync(dir);
        } finally {
          closeSync(dir);
        }
      }
      const buf = Buffer.from(records.map((r) => JSON.stringify(r) + '\n').join(''), 'utf8');
      let written = 0;
      while (written < buf.length) written += writeSync(rejectsFd, buf, written, buf.length - written);
      fsyncSync(rejectsFd);
      return buf.length;
    };

    /** Commits the pending lines and the checkpoint that ends at `endOffset` / `endLine`. */
    let committedLine = checkpoint.line;
    const commit = async (pending: PendingLine[], endOffset: number, endLine: number): Promise<void> => {
      const rows: unknown[] = [];
      const rowLines: number[] = [];
      const rejects: { line: number; reason: string; text: string }[] = [];
      const rowTexts: string[] = [];
      for (const p of pending) {
        if (p.notUtf8) {
          rejects.push({ line: p.line, reason: 'not valid UTF-8', text: p.text });
          continue;
        }
        let value: unknown;
        try {
          value = parseJsonLine(p.text);
        } catch (error) {
          rejects.push({ line: p.line, reason: `not JSON: ${(error as Error).message}`, text: p.text });
          continue;
        }
        rows.push(value);
        rowLines.push(p.line);
        rowTexts.push(p.text);
      }
      let newRejectsBytes = rejectsBytes;
      const appended = await appendMessagesChecked(raw, rows, coldKeys, (r) => {
        for (const rej of r.rejected) rejects.push({ line: rowLines[rej.index]!, reason: rej.reason, text: rowTexts[rej.index]! });
        rejects.sort((a, b) => a.line - b.line);
        // Durable before the commit; the checkpoint names the size that goes with it.
        newRejectsBytes = rejectsBytes + appendRejects(rejects);
        upsert.run(name, JSON.stringify({ offset: endOffset, line: endLine, rejectsBytes: newRejectsBytes } satisfies IngestCheckpoint), Date.now());
      }).catch((error: unknown) => {
        throw toDiskFullError(error, inputPath, raw.name, rejectsPath, { offset, line: committedLine, rejectsBytes });
      });
      offset = endOffset;
      committedLine = endLine;
      rejectsBytes = newRejectsBytes;
      result.lines += pending.length;
      result.inserted += appended.inserted;
      result.duplicates += appended.duplicates;
      result.rejected += rejects.length;
    };

    let pending: PendingLine[] = [];
    let readPos = offset; // where the next chunk is read from
    let carry: Buffer = Buffer.alloc(0); // bytes of an unfinished line, starting at `lineStart`
    let lineStart = offset;
    let nextLine = checkpoint.line; // lines consumed so far, blank ones included
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);

    const takeLine = (bytes: Buffer, end: number): void => {
      // `bytes` is the line without its '\n'; `end` is the offset just past the '\n' (or EOF).
      nextLine++;
      const notUtf8 = !isUtf8(bytes);
      let text = bytes.toString('utf8');
      if (lineStart === 0 && text.charCodeAt(0) === 0xfeff) text = text.slice(1); // UTF-8 BOM
      if (text.endsWith('\r')) text = text.slice(0, -1);
      lineStart = end;
      if (text.trim() === '') return;
      pending.push(notUtf8 ? { line: nextLine, text, notUtf8 } : { line: nextLine, text });
    };

    while (readPos < size) {
      const { bytesRead } = await input.read(chunk, 0, Math.min(CHUNK_BYTES, size - readPos), readPos);
      if (bytesRead === 0) break; // the file shrank while we read it; stop at what we saw
      const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      const dataStart = readPos - carry.length; // file offset of data[0]
      readPos += bytesRead;
      let from = 0;
      for (let nl = data.indexOf(NEWLINE, from); nl !== -1; nl = data.indexOf(NEWLINE, from)) {
        takeLine(data.subarray(from, nl), dataStart + nl + 1);
        from = nl + 1;
        if (pending.length >= batchSize) {
          await commit(pending, lineStart, nextLine);
          pending = [];
          options.onProgress?.(offset, size);
          if (options.signal?.aborted) options.signal.throwIfAborted();
        }
      }
      // Copy: `chunk` is reused by the next read.
      carry = Buffer.from(data.subarray(from));
    }
    // A last line without a trailing newline.
    if (carry.length > 0) takeLine(carry, lineStart + carry.length);
    if (pending.length > 0 || lineStart !== offset) {
      await commit(pending, lineStart, nextLine);
      pending = [];
      options.onProgress?.(offset, size);
    }
    return result;
  } finally {
    if (rejectsFd !== undefined) closeSync(rejectsFd);
    await input.close();
  }
}
