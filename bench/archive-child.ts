/**
 * One archive run in its own process, for the peak-RSS figure of the archive
 * benchmark: opens the store in <dataDir>, archives `messages` with the
 * benchmark's clock, and prints one JSON line with the report and
 * its peak RSS (`peakRssKiB`: VmHWM, not maxRSS, which a child inherits from
 * its parent) as the last thing it does.
 *
 * argv: <dataDir> [ARCHIVE_BATCH_SIZE] [ARCHIVE_ZSTD_LEVEL]; ARCHIVE_THREAD_MIN_ROWS passes through
 */
import { openTierStore } from '../src/store/openTierStore.js';
import registry from '../archive-registry.js';
import { ARCHIVE_NOW, benchConfig } from './archiveData.js';
import { peakRssKiB } from './lib.js';

const [dataDir, batchSize, zstdLevel] = process.argv.slice(2);
if (!dataDir) {
  process.stderr.write('usage: node --import tsx bench/archive-child.ts <dataDir> [batchSize] [zstdLevel]\n');
  process.exit(2);
}
const env: Record<string, string> = {};
if (batchSize) env.ARCHIVE_BATCH_SIZE = batchSize;
if (zstdLevel) env.ARCHIVE_ZSTD_LEVEL = zstdLevel;
// An A/B of where chunks are read and written: ARCHIVE_THREAD_MIN_ROWS=0 (worker thread) or a huge value (this thread).
if (process.env.ARCHIVE_THREAD_MIN_ROWS) env.ARCHIVE_THREAD_MIN_ROWS = process.env.ARCHIVE_THREAD_MIN_ROWS;
const rssBeforeKiB = peakRssKiB();
const store = await openTierStore({ config: benchConfig(dataDir, env), registry });
const t0 = performance.now();
const report = await store.archiver.run({ tables: ['messages'], now: ARCHIVE_NOW });
const seconds = (performance.now() - t0) / 1000;
await store.close();
const t = report.tables[0]!;
process.stdout.write(
  JSON.stringify({
    rowsMoved: t.rowsMoved,
    files: t.files,
    bytesOut: t.bytesOut,
    error: t.error ?? null,
    seconds,
    rssBeforeKiB,
    maxRssKiB: peakRssKiB(),
  }) + '\n',
);
