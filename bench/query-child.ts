/**
 * One contender of the query benchmark's all-hot section in its own process,
 * for a clean peak-RSS figure: opens the store in <dataDir> (bridge) or a plain
 * better-sqlite3 connection on its hot file (sqlite), runs the statement
 * `runs` times, and prints one JSON line with the timings and its peak RSS
 * as the last thing it does.
 *
 * Peak RSS is `peakRssKiB` (bench/lib.ts): VmHWM, this process's own.
 *
 * argv: <dataDir> <bridge|sqlite> <runs> <sql> [params as JSON]
 */
import Database from 'better-sqlite3';
import registry from '../archive-registry.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { benchConfig } from './archiveData.js';
import { peakRssKiB } from './lib.js';

const [dataDir, mode, runsText, sql, paramsJson] = process.argv.slice(2);
if (!dataDir || (mode !== 'bridge' && mode !== 'sqlite') || !runsText || !sql) {
  process.stderr.write('usage: node --import tsx bench/query-child.ts <dataDir> <bridge|sqlite> <runs> <sql> [params JSON]\n');
  process.exit(2);
}
const params = paramsJson ? (JSON.parse(paramsJson) as unknown[]) : [];
const runs = Number(runsText);
const config = benchConfig(dataDir, { ARCHIVE_QUERY_CACHE_ENABLED: 'false' });
const ms: number[] = [];
let rows = 0;
let rssOpenKiB: number;
if (mode === 'bridge') {
  const store = await openTierStore({ config, registry, readonly: true });
  rssOpenKiB = peakRssKiB();
  try {
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      rows = (await store.bridge.sql(sql, params)).length;
      ms.push(performance.now() - t0);
    }
  } finally {
    await store.close();
  }
} else {
  const db = new Database(config.hotPath, { readonly: true, fileMustExist: true });
  db.defaultSafeIntegers(true);
  rssOpenKiB = peakRssKiB();
  try {
    const stmt = db.prepare(sql);
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      rows = stmt.all(...params).length;
      ms.push(performance.now() - t0);
    }
  } finally {
    db.close();
  }
}
process.stdout.write(JSON.stringify({ mode, rows, ms, rssOpenKiB, maxRssKiB: peakRssKiB() }) + '\n');
