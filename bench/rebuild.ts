/**
 * Manifest rebuild benchmark (`npm run bench -- rebuild`):
 * `store.maintenance.rebuildManifest()` over a cold tree of about 1,000 files,
 * in seconds per 1,000 files, beside the raw limit measured in the same run —
 * plain DuckDB reading each file's footer (`parquet_kv_metadata`) and its key
 * column into JS, plus a sha256 of each file: the reads a rebuild cannot skip.
 * The machine is shared: compare the ratio, not the absolute figures.
 *
 * Data: BENCH_REBUILD_ROWS demo messages (default 200,000) over
 * BENCH_REBUILD_DAYS days (default 1,000) ending at DATA_NOW, archived with
 * HOT_DAYS_MESSAGES=7 at ARCHIVE_NOW: one file per day. The base hot file is
 * generated once (bench/data/archive/base-*.db, cached); it is archived fresh
 * into bench/data/rebuild/ on every run.
 *
 * Cases, BENCH_REBUILD_ROUNDS (3) each, median:
 *  - intact: the manifest already lists every file (nothing changes; every file is verified);
 *  - emptied: `_tierdb_files` emptied before each round (every file listed again);
 *  - dry run of the emptied case;
 *  - raw limit: footer + key column + sha256 of every file, plain DuckDB and node:crypto.
 */
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import registry from '../archive-registry.js';
import { absoluteColdPath } from '../src/cold/coldLayout.js';
import { sqlString } from '../src/cold/DuckDbEngine.js';
import { fileSha256 } from '../src/cold/fileSha256.js';
import { listFiles } from '../src/manifest/manifestFiles.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { ARCHIVE_NOW, benchConfig, ensureBaseDb, freshCopy, median, removeDir } from './archiveData.js';
import { round, writeResult } from './lib.js';

const log = (s: string): void => void process.stderr.write(`${s}\n`);

function intEnv(name: string, def: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? def : Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - t0) / 1000, value };
}

/** Footer, key column and sha256 of every file, with nothing of tierdb around it. */
async function rawLimit(coldDir: string, files: readonly string[], threads: number): Promise<number> {
  const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const con = await instance.connect();
  try {
    const t0 = performance.now();
    for (const rel of files) {
      const file = sqlString(absoluteColdPath(coldDir, rel));
      await con.runAndReadAll(`SELECT decode(key), decode(value) FROM parquet_kv_metadata(${file})`);
      (await con.runAndReadAll(`SELECT msg_id FROM read_parquet(${file}, hive_partitioning = false)`)).getColumns();
      await fileSha256(absoluteColdPath(coldDir, rel));
    }
    return (performance.now() - t0) / 1000;
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

export async function run(): Promise<void> {
  const rows = intEnv('BENCH_REBUILD_ROWS', 200_000);
  const days = intEnv('BENCH_REBUILD_DAYS', 1_000);
  const rounds = intEnv('BENCH_REBUILD_ROUNDS', 3);
  const base = await ensureBaseDb(rows, days, log);
  const dir = freshCopy(base, 'rebuild');
  const config = benchConfig(dir);
  let store: TierStore | undefined;
  try {
    store = await openTierStore({ config, registry });
    log(`archiving ${rows} messages over ${days} days`);
    const archived = await timed(() => store!.archiver.run({ now: ARCHIVE_NOW, tables: ['messages'] }));
    const files = listFiles(store.hot.raw, 'messages', ['live']).map((f) => f.path);
    log(`  ${files.length} files in ${archived.seconds.toFixed(1)} s`);
    const cases: Record<string, number[]> = { intact: [], emptied: [], dryRun: [], raw: [] };
    for (let r = 0; r < rounds; r++) {
      cases.raw!.push(await rawLimit(config.coldDir, files, config.archiveMaxWorkers));
      const intact = await timed(() => store!.maintenance.rebuildManifest({ tables: ['messages'] }));
      if (intact.value.filesVerified !== files.length || intact.value.tables[0]!.liveFilesAfter !== files.length) throw new Error('intact rebuild did not verify and keep every file');
      cases.intact!.push(intact.seconds);
      store.hot.raw.exec(`DELETE FROM _tierdb_files`);
      const dry = await timed(() => store!.maintenance.rebuildManifest({ tables: ['messages'], dryRun: true }));
      if (dry.value.tables[0]!.liveFilesAfter !== files.length) throw new Error('dry run would not list every file');
      cases.dryRun!.push(dry.seconds);
      const emptied = await timed(() => store!.maintenance.rebuildManifest({ tables: ['messages'] }));
      if (emptied.value.tables[0]!.added.length !== files.length) throw new Error('rebuild of an emptied manifest did not list every file');
      cases.emptied!.push(emptied.seconds);
      log(`  round ${r + 1}: raw ${cases.raw!.at(-1)!.toFixed(2)} s, intact ${intact.seconds.toFixed(2)} s, dry run ${dry.seconds.toFixed(2)} s, emptied ${emptied.seconds.toFixed(2)} s`);
    }
    const per1000 = (s: number) => round((s * 1000) / files.length, 2);
    const rawMedian = median(cases.raw!);
    const result: Record<string, unknown> = {
      data: { rows, days, table: 'messages', files: files.length, archiveSeconds: round(archived.seconds, 1), dir: path.relative(process.cwd(), dir) },
      rounds,
      secondsPer1000Files: {
        intact: per1000(median(cases.intact!)),
        emptied: per1000(median(cases.emptied!)),
        dryRun: per1000(median(cases.dryRun!)),
        rawLimit: per1000(rawMedian),
      },
      ratioToRawLimit: {
        intact: round(median(cases.intact!) / rawMedian, 2),
        emptied: round(median(cases.emptied!) / rawMedian, 2),
        dryRun: round(median(cases.dryRun!) / rawMedian, 2),
      },
      samplesSeconds: Object.fromEntries(Object.entries(cases).map(([k, v]) => [k, v.map((x) => round(x, 3))])),
      note:
        'rawLimit = per file: DuckDB parquet_kv_metadata + key column into JS + sha256, nothing else. A rebuild also reads the time column, ' +
        'decodes every column once (hash), checks the columns against the footer, resolves keys held twice in DuckDB against the hot keys in the files\' range, and commits.',
    };
    writeResult('rebuild', result);
  } finally {
    await store?.close();
    removeDir(dir);
  }
}
