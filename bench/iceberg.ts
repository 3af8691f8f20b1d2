/**
 * Iceberg publishing benchmark (`npm run bench -- iceberg`), the figures of
 * issue 13, on bench/query.ts's cached demo data (BENCH_ICEBERG_ROWS messages,
 * default 1,000,000, over 400 days, every demo table archived with now =
 * DATA_NOW), copied to bench/data/iceberg/ (gitignored) so the cache stays
 * untouched:
 *
 *  - first publish of every table (`store.maintenance.publishIceberg()`): wall
 *    time, per table and in all, and the Iceberg bytes written (manifests,
 *    manifest lists, delete files, metadata JSON) vs the table's data bytes;
 *  - incremental publish after one nightly run (an archive run with now = one
 *    day later): per table [goal <= 100 ms per table], as the run reports it
 *    and as the whole call (lease, run row, recovery, DuckDB engine) divided by
 *    the tables; BENCH_ICEBERG_NIGHTS (3) nights, median;
 *  - icebird's full read of messages over HTTP (a static server on 127.0.0.1
 *    serving the cold folder) vs DuckDB `read_parquet` of the same live files
 *    (all columns, materialized), BENCH_ICEBERG_READS (3) rounds each,
 *    alternated (report only, no goal);
 *  - a reader's listing of one table's snapshots (icebird's metadata).
 * The machine's load average is recorded next to each figure (it is shared).
 */
import { cpSync, createReadStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { icebergMetadata, icebergRead } from 'icebird';
import registry from '../archive-registry.js';
import { sqlString } from '../src/cold/DuckDbEngine.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { benchConfig, DATA_NOW, median } from './archiveData.js';
import { BENCH_DATA_DIR, round, writeResult } from './lib.js';
import { ensureQueryData } from './query.js';

const log = (s: string): void => void process.stderr.write(`${s}\n`);
const loadavg = (): number[] => os.loadavg().map((x) => round(x, 2));
const DAY_MS = 86_400_000;

function intEnv(name: string, def: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? def : Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}

async function serve(root: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = path.join(root, ...rel.split('/').filter((s) => s !== '' && s !== '..'));
    if (!existsSync(file) || !statSync(file).isFile()) return void res.writeHead(404).end();
    const size = statSync(file).size;
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const end = m && m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
    res.writeHead(m ? 206 : 200, { 'content-length': end - start + 1, ...(m ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}) });
    createReadStream(file, { start, end }).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export async function run(): Promise<void> {
  const rows = intEnv('BENCH_ICEBERG_ROWS', 1_000_000);
  const nights = intEnv('BENCH_ICEBERG_NIGHTS', 3);
  const reads = intEnv('BENCH_ICEBERG_READS', 3);
  log(`iceberg bench: ${rows} demo messages (load ${loadavg().join(' ')})`);
  const data = await ensureQueryData(rows, 400);
  const dir = path.join(BENCH_DATA_DIR, 'iceberg', `work-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.dirname(dir), { recursive: true });
  cpSync(data.dir, dir, { recursive: true, filter: (src) => !src.endsWith('oracle.db') });
  const http = await serve(path.join(dir, 'cold'));
  const env = { ARCHIVE_QUERY_CACHE_ENABLED: 'false', ICEBERG_LOCATION: http.url, ICEBERG_KEEP_SNAPSHOTS: '5', ICEBERG_SNAPSHOT_DAYS: '1' };
  const store = await openTierStore({ config: benchConfig(dir, env), registry });
  try {
    // First publish.
    const loadFirst = loadavg();
    const t0 = performance.now();
    const first = await store.maintenance.publishIceberg();
    const firstMs = performance.now() - t0;
    const firstTables = first.tables.map((t) => ({
      table: t.table,
      status: t.status,
      files: t.dataFiles,
      rows: t.rows,
      dataBytes: t.dataBytes,
      metadataBytes: t.metadataBytes,
      metadataToData: round(t.metadataBytes / Math.max(1, t.dataBytes), 5),
      ms: t.durationMs,
    }));
    const dataBytes = first.tables.reduce((n, t) => n + t.dataBytes, 0);
    const metadataBytes = first.tables.reduce((n, t) => n + t.metadataBytes, 0);
    log(`  first publish: ${firstMs.toFixed(0)} ms, ${metadataBytes} metadata bytes for ${dataBytes} data bytes (load ${loadFirst.join(' ')})`);

    // Incremental publishes after nightly archive runs.
    const nightly: Record<string, unknown>[] = [];
    for (let n = 1; n <= nights; n++) {
      const archived = await store.archiver.run({ now: DATA_NOW + n * DAY_MS });
      const load = loadavg();
      const t1 = performance.now();
      const inc = await store.maintenance.publishIceberg();
      const callMs = performance.now() - t1;
      const perTable = Object.fromEntries(inc.tables.map((t) => [t.table, { status: t.status, addedFiles: t.addedFiles, ms: t.durationMs }]));
      nightly.push({ night: n, rowsArchived: archived.tables.reduce((s, t) => s + t.rowsMoved, 0), callMs: round(callMs, 1), callMsPerTable: round(callMs / inc.tables.length, 1), maxTableMs: Math.max(...inc.tables.map((t) => t.durationMs)), perTable, load });
      log(`  night ${n}: publish ${callMs.toFixed(0)} ms for ${inc.tables.length} tables; per table ${JSON.stringify(perTable)} (load ${load.join(' ')})`);
    }

    // icebird vs DuckDB read_parquet of the same files.
    const tableUrl = `${http.url}/messages/_iceberg`;
    const files = (store.hot.raw.prepare(`SELECT path FROM _tierdb_files WHERE table_name = 'messages' AND state = 'live' ORDER BY min_time_ms`).pluck().all() as string[]).map((p) => path.join(dir, 'cold', p));
    const duck = await DuckDBInstance.create(':memory:', { threads: '2' });
    const con = await duck.connect();
    const icebirdMs: number[] = [];
    const duckMs: number[] = [];
    const readLoad: number[][] = [];
    let icebirdRows = 0;
    let duckRows = 0;
    for (let r = 0; r < reads; r++) {
      const order = r % 2 === 0 ? ['icebird', 'duckdb'] : ['duckdb', 'icebird'];
      for (const side of order) {
        const t = performance.now();
        if (side === 'icebird') icebirdRows = (await icebergRead({ tableUrl })).length;
        else duckRows = (await con.runAndReadAll(`SELECT * FROM read_parquet([${files.map(sqlString).join(', ')}], union_by_name = true)`)).currentRowCount;
        (side === 'icebird' ? icebirdMs : duckMs).push(performance.now() - t);
      }
      readLoad.push(loadavg());
      log(`  read round ${r + 1}: icebird ${icebirdMs.at(-1)!.toFixed(0)} ms (${icebirdRows} rows), duckdb ${duckMs.at(-1)!.toFixed(0)} ms (${duckRows} rows)`);
    }
    con.closeSync();
    duck.closeSync();

    // A reader listing the snapshots of one table.
    const metadata = await icebergMetadata({ tableUrl });
    const snapshots = (metadata.snapshots ?? []).map((s) => ({
      'snapshot-id': s['snapshot-id'],
      'sequence-number': s['sequence-number'],
      'timestamp-ms': new Date(Number(s['timestamp-ms'])).toISOString(),
      operation: s.summary.operation,
      'added-data-files': s.summary['added-data-files'],
      'deleted-data-files': (s.summary as Record<string, string>)['deleted-data-files'],
      'total-records': s.summary['total-records'],
      'tierdb.manifest-version': (s.summary as Record<string, string>)['tierdb.manifest-version'],
    }));
    log(`  icebird lists ${snapshots.length} snapshots of messages:\n${snapshots.map((s) => `    ${JSON.stringify(s)}`).join('\n')}`);

    const incrementalPerTable = median(nightly.map((n) => n.maxTableMs as number));
    writeResult('iceberg', {
      data: { rows, days: 400, dir: path.relative(process.cwd(), data.dir) },
      firstPublish: { ms: round(firstMs, 1), dataBytes, metadataBytes, metadataToData: round(metadataBytes / dataBytes, 5), tables: firstTables, load: loadFirst },
      incremental: { goalMsPerTable: 100, medianSlowestTableMs: incrementalPerTable, medianCallMsPerTable: median(nightly.map((n) => n.callMsPerTable as number)), nights: nightly },
      read: {
        rows: { icebird: icebirdRows, duckdb: duckRows },
        icebirdMs: icebirdMs.map((x) => round(x, 1)),
        duckdbMs: duckMs.map((x) => round(x, 1)),
        icebirdMedianMs: round(median(icebirdMs), 1),
        duckdbMedianMs: round(median(duckMs), 1),
        ratio: round(median(icebirdMs) / median(duckMs), 2),
        load: readLoad,
      },
      snapshotsOfMessages: snapshots,
    });
  } finally {
    await store.close();
    await http.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
