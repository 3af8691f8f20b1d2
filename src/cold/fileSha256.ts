/**
 * The whole-file checksum recorded in the manifest (`file_sha256`): any
 * changed byte of a cold file shows up here, not only changed keys.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

const READ_BYTES = 1 << 20;

/**
 * sha256 (hex) of a file's bytes, read 1 MiB at a time. Synchronous reads
 * with a turn of the event loop after each: about a third of the CPU of a
 * read stream (one thread-pool round trip per read), which dominated on many
 * small files, while no read holds the loop longer than one 1 MiB read.
 */
export async function fileSha256(abs: string): Promise<string> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(READ_BYTES);
  const fd = openSync(abs, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, READ_BYTES, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      if (n === READ_BYTES) await yieldToEventLoop();
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}
