/**
 * Publishing the cold tier as Apache Iceberg v2 (issue 13), read back by
 * independent readers: icebird over HTTP (every row and column equal to the
 * bridge's cold rows, 64-bit keys exactly), avsc with the spec's manifest and
 * manifest-list schemas, the spec's required metadata fields. Through archive,
 * delete markers, compaction, a new column, retention-like expiry and erase;
 * on the local folder and on the test S3 server; bad input refused by name.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { icebergRead } from 'icebird';
import { writeDemoData } from '../src/demo/generateDemoData.js';
import { DuckDbEngine, sqlString } from '../src/cold/DuckDbEngine.js';
import { loadConfig } from '../src/config.js';
import { wechatPreset } from '../src/presets/wechat/wechatPreset.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { NOW_MS, runCli } from './archiveFixtures.js';
import { tempDir, testConfig, waitPastRetiredGrace } from './helpers.js';
import { checkTableMetadata, expectIcebirdEqualsBridge, fetchBytes, serveFolder } from './icebergFixtures.js';
import { startS3Server, TEST_BUCKET } from './s3Server.js';

const TABLES = ['messages', 'task_queue', 'rule_logs', 'audit_logs', 'media_signatures'];
const ENV = { LOG_LEVEL: 'silent', HOT_DAYS_TASK: '7', HOT_DAYS_MESSAGES: '7', HOT_DAYS_LOG: '7', HOT_DAYS_SIGN: '7', ARCHIVE_QUERY_CACHE_ENABLED: 'false', TIERDB_RETIRED_GRACE_SECONDS: '1', TIERDB_ERASE_GRACE_SECONDS: '0' };

async function seeded(dir: string, env: Record<string, string>, rows = 3000): Promise<TierStore> {
  const store = await openTierStore({ config: testConfig(dir, env), preset: wechatPreset });
  writeDemoData(store.hot.raw, { rows, days: 40, now: NOW_MS, seed: 7 });
  return store;
}

/** Every published table: metadata, Avro and rows checked; returns rows per table. */
async function checkAll(store: TierStore, base: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of TABLES) {
    const tableUrl = `${base}/${table}/_iceberg`;
    const { metadata, entries } = await checkTableMetadata(tableUrl);
    const fields = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id'])!.fields;
    const id = new Map(fields.map((f) => [f.name, f.id]));
    const t = store.table(table);
    // Metrics: value counts = record counts; the key's and the time's bounds hold the file's own range (manifest).
    const live = new Map(
      (store.hot.raw.prepare(`SELECT path, rows, min_key, max_key FROM _tierdb_files WHERE table_name = ? AND state = 'live'`).safeIntegers(true).all(table) as { path: string; rows: bigint; min_key: unknown; max_key: unknown }[]).map((r) => [r.path, r]),
    );
    const dataEntries = entries.filter((e) => e.status !== 2 && (e.data_file as { content: number }).content === 0);
    expect(dataEntries.length, table).toBe(live.size);
    for (const e of dataEntries) {
      const df = e.data_file as { file_path: string; record_count: number; value_counts: { key: number; value: number }[]; lower_bounds: { key: number; value: Buffer }[]; upper_bounds: { key: number; value: Buffer }[]; column_sizes: { key: number; value: number }[] };
      const rel = df.file_path.slice(base.length + 1);
      const row = live.get(rel);
      expect(row, `${df.file_path} is a live file`).toBeDefined();
      expect(BigInt(df.record_count)).toBe(row!.rows);
      expect(df.value_counts.find((v) => v.key === id.get(t.keyColumn))?.value).toBe(df.record_count);
      expect(df.column_sizes.length).toBeGreaterThan(0);
      if (typeof row!.min_key === 'bigint') {
        const lo = df.lower_bounds.find((b) => b.key === id.get(t.keyColumn))!.value.readBigInt64LE();
        const hi = df.upper_bounds.find((b) => b.key === id.get(t.keyColumn))!.value.readBigInt64LE();
        expect(lo).toBe(row!.min_key);
        expect(hi).toBe(row!.max_key);
      }
    }
    out[table] = await expectIcebirdEqualsBridge(store, table, tableUrl);
  }
  return out;
}

function treeFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else out.push(path.join(d, e.name));
    }
  };
  walk(dir);
  return out;
}

describe('Iceberg publishing', () => {
  it('local folder: archive, deletes, compaction, a new column; every table read by icebird equals the bridge; old snapshots stay readable while kept; retired files wait for their snapshots', { timeout: 240_000 }, async () => {
    const dir = tempDir();
    const { url } = await serveFolder(path.join(dir, 'cold'));
    const env = { ...ENV, ICEBERG_LOCATION: url, ICEBERG_KEEP_SNAPSHOTS: '2', ICEBERG_SNAPSHOT_DAYS: '0' };
    const store = await seeded(dir, env);
    try {
      await store.archiver.run({ now: NOW_MS });
      // Cold rows deleted and updated: the published snapshot hides them with position deletes.
      const coldIds = store.hot.raw.prepare(`SELECT min_key FROM _tierdb_files WHERE table_name = 'task_queue' AND state = 'live' LIMIT 3`).pluck().all() as number[];
      expect((await store.delete('task_queue', { where: { id: { in: coldIds } } })).cold).toBe(3);
      expect((await store.update('messages', { where: { msg_type: 1, create_time: { lt: Math.floor(NOW_MS / 1000) - 30 * 86400 } }, set: { content: 'edited' } })).cold).toBeGreaterThan(0);
      const first = await store.maintenance.publishIceberg();
      expect(first.tables.map((t) => t.status)).toEqual(TABLES.map(() => 'published'));
      expect(first.tables.find((t) => t.table === 'task_queue')!.deletedRows).toBe(3);
      const rows1 = await checkAll(store, url);
      expect(Object.values(rows1).every((n) => n > 0)).toBe(true);

      // Nothing changed: no new snapshot.
      const again = await store.maintenance.publishIceberg();
      expect(again.tables.map((t) => t.status)).toEqual(TABLES.map(() => 'unchanged'));

      // Compaction: the retired files stay on disk while a kept snapshot lists them, even past the grace.
      const before = store.hot.raw.prepare(`SELECT path FROM _tierdb_files WHERE table_name = 'task_queue' AND state = 'live'`).pluck().all() as string[];
      await store.maintenance.compact({ minFiles: 2, tables: ['task_queue'] });
      const second = await store.maintenance.publishIceberg({ tables: ['task_queue'] });
      expect(second.tables[0]!.removedFiles).toBe(before.length);
      await waitPastRetiredGrace(store.hot.raw, 1000);
      await store.archiver.recoverIfIdle();
      for (const p of before) expect(statSync(path.join(dir, 'cold', p)).isFile(), `${p} kept for the first snapshot`).toBe(true);
      // Time travel to the first snapshot: its files are still there.
      const old = await icebergRead({ tableUrl: `${url}/task_queue/_iceberg`, metadataFileName: 'v1.metadata.json' });
      expect(old.length).toBe(rows1.task_queue);
      await checkAll(store, url);

      // A new column: archived rows carry it; earlier ids unchanged, the new one is last-column-id + 1.
      const meta1 = (await checkTableMetadata(`${url}/task_queue/_iceberg`)).metadata;
      store.hot.raw.exec(`ALTER TABLE task_queue ADD COLUMN region TEXT`);
      store.hot.raw.prepare(`INSERT INTO task_queue (task_type, status, priority, msg_id, payload, attempts, created_at, region) VALUES ('forward', 'done', 1, 9223372036854775807, '{}', 0, ?, 'eu')`).run(Math.floor(NOW_MS / 1000) - 20 * 86400);
      const reopened = await openTierStore({ config: testConfig(dir, env), preset: wechatPreset });
      try {
        await reopened.archiver.run({ now: NOW_MS });
        const third = await reopened.maintenance.publishIceberg({ tables: ['task_queue'] });
        expect(third.tables[0]!.status).toBe('published');
        expect(third.tables[0]!.expiredSnapshots).toBeGreaterThan(0);
        const meta2 = (await checkTableMetadata(`${url}/task_queue/_iceberg`)).metadata;
        const f1 = meta1.schemas.find((s) => s['schema-id'] === meta1['current-schema-id'])!.fields;
        const f2 = meta2.schemas.find((s) => s['schema-id'] === meta2['current-schema-id'])!.fields;
        for (const f of f1) expect(f2.find((g) => g.name === f.name)?.id, f.name).toBe(f.id);
        expect(f2.find((g) => g.name === 'region')?.id).toBe(meta1['last-column-id'] + 1);
        expect(meta2.snapshots.length).toBe(2);
        expect(JSON.parse(meta2.properties['schema.name-mapping.default']!)).toContainEqual({ 'field-id': f2.find((g) => g.name === 'region')!.id, names: ['region'] });
        await expectIcebirdEqualsBridge(reopened, 'task_queue', `${url}/task_queue/_iceberg`);
        const maxRow = (await icebergRead({ tableUrl: `${url}/task_queue/_iceberg` })).find((r) => r.region === 'eu');
        expect(maxRow?.msg_id).toBe(9223372036854775807n);
        // The first snapshot expired: its files went at the next recovery.
        await waitPastRetiredGrace(reopened.hot.raw, 1000);
        await reopened.archiver.recoverIfIdle();
        for (const p of before) expect(() => statSync(path.join(dir, 'cold', p)), `${p} unlinked once no snapshot lists it`).toThrow();
      } finally {
        await reopened.close();
      }
    } finally {
      await store.close();
    }
  });

  it('ICEBERG_PUBLISH=true publishes after archive, compaction and erase; an erase expires every snapshot listing an erased file and leaves no byte of the rows in any Iceberg object', { timeout: 180_000 }, async () => {
    const dir = tempDir();
    const { url } = await serveFolder(path.join(dir, 'cold'));
    const env = { ...ENV, ICEBERG_LOCATION: url, ICEBERG_PUBLISH: 'true', ICEBERG_KEEP_SNAPSHOTS: '10', ICEBERG_SNAPSHOT_DAYS: '30' };
    const store = await seeded(dir, env, 2000);
    try {
      const archived = await store.archiver.run({ now: NOW_MS });
      expect(archived.iceberg && 'tables' in archived.iceberg ? archived.iceberg.tables.map((t) => t.status) : archived.iceberg).toEqual(TABLES.map(() => 'published'));
      const compacted = await store.maintenance.compact({ minFiles: 2, tables: ['messages'] });
      expect(compacted.iceberg?.tables[0]?.status).toBe('published');
      await checkAll(store, url);
      // Files written after the first publish carry the table's Iceberg field ids (compaction's output here).
      {
        const meta = (await checkTableMetadata(`${url}/messages/_iceberg`)).metadata;
        const ids = Object.fromEntries(meta.schemas.find((s) => s['schema-id'] === meta['current-schema-id'])!.fields.map((f) => [f.name, BigInt(f.id)]));
        const merged = store.hot.raw.prepare(`SELECT path FROM _tierdb_files WHERE table_name = 'messages' AND state = 'live' AND run_id = ?`).pluck().all(compacted.runId) as string[];
        expect(merged.length).toBeGreaterThan(0);
        const engine = await DuckDbEngine.create({ memoryLimit: '256MB', threads: 1 });
        try {
          const got = await engine.connection.runAndReadAll(`SELECT name, field_id FROM parquet_schema(${sqlString(path.join(dir, 'cold', merged[0]!))}) WHERE field_id IS NOT NULL`);
          expect(Object.fromEntries(got.getRows() as [string, bigint][])).toEqual(ids);
        } finally {
          engine.close();
        }
      }
      const coldVictim = (await store.bridge.sql(`SELECT msg_id, content FROM messages WHERE content IS NOT NULL AND length(content) > 12 ORDER BY create_time LIMIT 1`))[0] as { msg_id: bigint; content: string };
      const metaBefore = (await checkTableMetadata(`${url}/messages/_iceberg`)).metadata;
      expect(metaBefore.snapshots.length).toBe(2);
      const receipt = await store.erase('messages', { where: { msg_id: coldVictim.msg_id } });
      expect(receipt.status).toBe('complete');
      const metaAfter = (await checkTableMetadata(`${url}/messages/_iceberg`)).metadata;
      expect(metaAfter.snapshots.map((s) => s['snapshot-id']), 'every snapshot listing the erased file expired').not.toContain(metaBefore['current-snapshot-id']);
      await expectIcebirdEqualsBridge(store, 'messages', `${url}/messages/_iceberg`);
      const idBytes = Buffer.alloc(8);
      idBytes.writeBigInt64LE(coldVictim.msg_id);
      for (const f of treeFiles(path.join(dir, 'cold', 'messages', '_iceberg'))) {
        const bytes = readFileSync(f);
        expect(bytes.includes(Buffer.from(coldVictim.content.slice(0, 12))), `${f} holds the erased content`).toBe(false);
        expect(bytes.includes(idBytes), `${f} holds the erased key as a bound`).toBe(false);
      }
      // No kept snapshot lists a file holding the row: after the retired grace, recovery unlinks every such file.
      await waitPastRetiredGrace(store.hot.raw, 1000);
      await store.archiver.recoverIfIdle();
      const engine = await DuckDbEngine.create({ memoryLimit: '256MB', threads: 1 });
      try {
        const glob = sqlString(path.join(dir, 'cold', 'messages', '**', 'part-*.parquet'));
        const left = await engine.connection.runAndReadAll(`SELECT count(*) FROM read_parquet(${glob}, union_by_name = true) WHERE msg_id = ${coldVictim.msg_id}`);
        expect(left.getRows()[0]![0], 'a cold file on disk still holds the erased row').toBe(0n);
      } finally {
        engine.close();
      }
    } finally {
      await store.close();
    }
  });

  it('cold tier in the test S3 server: every table read by icebird over HTTP equals the bridge', { timeout: 180_000 }, async () => {
    const server = await startS3Server();
    const dir = tempDir();
    const env = { ...ENV, ...server.env('app/history'), ICEBERG_LOCATION: `${server.endpoint}/${TEST_BUCKET}/app/history` };
    const store = await seeded(dir, env, 1500);
    try {
      await store.archiver.run({ now: NOW_MS });
      const coldId = store.hot.raw.prepare(`SELECT min_key FROM _tierdb_files WHERE table_name = 'audit_logs' AND state = 'live' LIMIT 1`).pluck().get() as number;
      expect((await store.delete('audit_logs', { where: { id: coldId } })).cold).toBe(1);
      const report = await store.maintenance.publishIceberg();
      expect(report.tables.map((t) => t.status)).toEqual(TABLES.map(() => 'published'));
      expect(report.tables.find((t) => t.table === 'audit_logs')!.deletedRows).toBe(1);
      await checkAll(store, `${server.endpoint}/${TEST_BUCKET}/app/history`);
      // The bucket's listing of cold files leaves the Iceberg objects out (recovery and validate never see them).
      expect((await store.cold.list()).filter((o) => o.path.includes('_iceberg'))).toEqual([]);
      const hint = await fetchBytes(`${server.endpoint}/${TEST_BUCKET}/app/history/messages/_iceberg/metadata/version-hint.text`);
      expect(hint.toString()).toBe('1');
    } finally {
      await store.close();
    }
  });

  it('bad input is refused naming the value: an unknown table, the format, bad ICEBERG_* values', async () => {
    const dir = tempDir();
    const store = await openTierStore({ config: testConfig(dir, ENV), preset: wechatPreset });
    try {
      await expect(store.maintenance.publishIceberg({ tables: ['nope'] })).rejects.toThrow(/table "nope" is not registered/);
    } finally {
      await store.close();
    }
    for (const [name, value] of [
      ['ICEBERG_KEEP_SNAPSHOTS', '0'],
      ['ICEBERG_SNAPSHOT_DAYS', '-1'],
      ['ICEBERG_PUBLISH', 'maybe'],
      ['ICEBERG_LOCATION', 'not a url'],
      ['ICEBERG_LOCATION', 'https://host/cold?x=1'],
    ] as const) {
      expect(() => loadConfig({ env: { [name]: value }, envFile: false }), `${name}=${value}`).toThrow(new RegExp(`${name}=${JSON.stringify(value).replace(/[?.]/g, '\\$&')} is invalid`));
    }
    const cli = await runCli(['--data-dir', dir, 'publish', 'parquet'], ENV);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/publish format "parquet" is unknown: expected iceberg/);
    const unknown = await runCli(['--data-dir', dir, 'publish', 'iceberg', '--table', 'nope'], ENV);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/table "nope" is not registered/);
    const ok = await runCli(['--data-dir', dir, 'publish', 'iceberg', '--json'], ENV);
    expect(ok.code, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as { tables: { status: string }[] }).tables.map((t) => t.status)).toEqual(TABLES.map(() => 'empty'));
  });
});
