/**
 * `tierdb query`, `sql`, `explain` and `export` against the library on mixed
 * hot/cold data: each output format parsed back (exact 64-bit integers, hex
 * BLOBs, NULL vs empty string) must equal bridge.query / bridge.sql.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import registry from '../archive-registry.js';
import { buildQueryOptions } from '../src/cli/filterOptions.js';
import { affinityType } from '../src/cold/columnTypes.js';
import { DuckDbEngine, sqlString } from '../src/cold/DuckDbEngine.js';
import { csvLine, toJson } from '../src/query/formatRows.js';
import type { QueryOptions, Row } from '../src/query/QueryOptions.js';
import { readerToObjects } from '../src/query/toRowObjects.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { DAY_S, NOW_MS, NOW_S, runCli, seedTaskQueue } from './archiveFixtures.js';
import { testConfig } from './helpers.js';

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const TRICKY = ['a,b', 'say "hi"', 'line1\r\nline2', 'tab\there', '', ' padded ', '中文, "引号"\n🚀', null];

type Kind = 'BIGINT' | 'DOUBLE' | 'VARCHAR' | 'BLOB';

/** The column kinds of a table, from its declared types. */
function kinds(store: TierStore, table: string): Map<string, Kind> {
  return new Map(
    store.table(table).columns.map((c) => [c.name, c.declaredType.toUpperCase().includes('BLOB') ? 'BLOB' : (affinityType(c.declaredType) ?? 'VARCHAR')]),
  );
}

function decode(text: string | null, kind: Kind): unknown {
  if (text === null) return null;
  if (kind === 'BIGINT') return BigInt(text);
  if (kind === 'DOUBLE') return Number(text);
  if (kind === 'BLOB') return Buffer.from(text, 'hex');
  return text;
}

/** RFC 4180: quoted fields (doubled quotes, CR/LF inside), CRLF records; an empty unquoted field is NULL. */
function parseCsv(text: string): (string | null)[][] {
  const records: (string | null)[][] = [];
  let record: (string | null)[] = [];
  let i = 0;
  while (i < text.length) {
    let field: string | null;
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quote');
        value += text.slice(i, q);
        if (text[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      field = value;
    } else {
      let j = i;
      while (j < text.length && text[j] !== ',' && text[j] !== '\r' && text[j] !== '\n') j++;
      field = j === i ? null : text.slice(i, j);
      if (/"/.test(field ?? '')) throw new Error(`bare quote in ${field}`);
      i = j;
    }
    record.push(field);
    if (text[i] === ',') i++;
    else if (text.startsWith('\r\n', i) || i >= text.length) {
      records.push(record);
      record = [];
      i += 2;
    } else throw new Error(`unexpected ${JSON.stringify(text[i])} at ${i}`);
  }
  return records;
}

function csvRows(text: string, types: Map<string, Kind>): Row[] {
  const [header, ...records] = parseCsv(text);
  return records.map((r) => Object.fromEntries(header!.map((name, i) => [name!, decode(r[i]!, types.get(name!) ?? 'VARCHAR')])));
}

/** JSON.parse keeping every number's exact text: numbers become { $num: text } before parsing. */
function parseJsonExact(text: string): unknown {
  const wrapped = text.replace(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g, (tok) => (tok.startsWith('"') ? tok : `{"$num":"${tok}"}`));
  return JSON.parse(wrapped);
}

function jsonRow(object: Record<string, unknown>, types: Map<string, Kind>): Row {
  return Object.fromEntries(
    Object.entries(object).map(([k, v]) => {
      const kind = types.get(k) ?? 'VARCHAR';
      if (v !== null && typeof v === 'object') return [k, decode((v as { $num: string }).$num, kind)];
      return [k, decode(v as string | null, kind)];
    }),
  );
}

describe('tierdb query / sql / explain / export', () => {
  let dir: string;
  let store: TierStore;
  const cli = (...args: string[]) => runCli(['--data-dir', dir, ...args]);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tierdb-cliquery-'));
    await seedTaskQueue(dir, 3000, 30);
    store = await openTierStore({ config: testConfig(dir), registry });
    const raw = store.hot.raw;
    raw.transaction(() => {
      const task = raw.prepare('INSERT INTO task_queue (task_type, status, priority, msg_id, payload, attempts, last_error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      TRICKY.forEach((text, i) => {
        // Half of them archived (20 days old), half hot.
        task.run('tricky', 'odd', 7, i === 0 ? INT64_MAX : i === 1 ? INT64_MIN : null, text, 0, text === null ? 'x' : null, NOW_S - (i % 2 ? 20 : 1) * DAY_S + i);
      });
      const media = raw.prepare('INSERT INTO media_signatures (msg_id, media_type, sha256, phash, size_bytes, width, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
      for (let i = 0; i < 300; i++) {
        media.run(
          i === 7 ? INT64_MAX : i % 4 === 0 ? null : 7_000_000_000_000_000_000n + BigInt(i),
          i % 2 ? 'image' : 'video',
          `sha,${i}"`,
          i % 5 === 0 ? null : i % 5 === 1 ? Buffer.alloc(0) : Buffer.from([i & 255, 0, 0x0a, 0x22, 0x2c]),
          i * 1000,
          i % 3 === 0 ? null : 640,
          NOW_MS - 1 - i * 8 * 3_600_000,
        );
      }
    })();
    const report = await store.archiver.run({ now: NOW_MS });
    for (const t of report.tables) expect([t.table, t.error]).toEqual([t.table, undefined]);
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('turns --where/--since/--until/--order/--limit/--columns into bridge options', () => {
    const t = store.table('task_queue');
    expect(
      buildQueryOptions(t, {
        where: ['status=failed', 'priority>=2', 'priority<4', 'payload~%任务%', 'msg_id!=9223372036854775807', 'task_type=12'],
        since: '2026-06-01',
        until: '2026-06-10T12:00:00Z',
        order: ['created_at:desc', 'id'],
        limit: 5,
        offset: 2,
        columns: 'id, status',
      }),
    ).toStrictEqual({
      where: {
        status: { eq: 'failed' },
        priority: { gte: 2n, lt: 4n },
        payload: { like: '%任务%' },
        msg_id: { ne: INT64_MAX },
        task_type: { eq: '12' },
        created_at: { gte: new Date('2026-06-01T00:00:00Z'), lt: new Date('2026-06-10T12:00:00Z') },
      },
      orderBy: [{ created_at: 'desc' }, { id: 'asc' }],
      limit: 5,
      offset: 2,
      columns: ['id', 'status'],
    });
    expect(buildQueryOptions(store.table('media_signatures'), { where: ['phash=\\x0a2c', 'width>=1.5'] }).where).toStrictEqual({
      phash: { eq: Buffer.from([0x0a, 0x2c]) },
      width: { gte: 1.5 },
    });
    expect(() => buildQueryOptions(t, { where: ['status'] })).toThrow(/col=val/);
    expect(() => buildQueryOptions(t, { where: ['created_at>=1'], since: '2026-01-01' })).toThrow(/created_at already has a gte/);
    expect(() => buildQueryOptions(t, { since: 'yesterday' })).toThrow(/--since "yesterday"/);
    // No offset means UTC, whatever the machine's time zone.
    const tz = process.env.TZ;
    process.env.TZ = 'Asia/Shanghai';
    try {
      expect(buildQueryOptions(t, { since: '2026-06-10T12:00:00' }).where).toStrictEqual({ created_at: { gte: new Date('2026-06-10T12:00:00Z') } });
      expect(buildQueryOptions(t, { since: '2026-06-10 12:00' }).where).toStrictEqual({ created_at: { gte: new Date('2026-06-10T12:00:00Z') } });
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
    expect(() => buildQueryOptions(t, { order: ['id:down'] })).toThrow(/--order/);
  });

  it('query: each format equals bridge.query with the same filters, on rows hot and cold', async () => {
    const types = kinds(store, 'task_queue');
    const args = ['--where', 'status=failed', '--where', 'priority>=2', '--since', new Date(NOW_MS - 20 * DAY_S * 1000).toISOString()];
    const args2 = ['--order', 'created_at:desc', '--order', 'priority', '--limit', '200', '--offset', '3'];
    const q: QueryOptions = {
      where: { status: 'failed', priority: { gte: 2 }, created_at: { gte: NOW_S - 20 * DAY_S } },
      orderBy: [{ created_at: 'desc' }, { priority: 'asc' }],
      limit: 200,
      offset: 3,
    };
    const want = await store.bridge.query('task_queue', q);
    expect(want).toHaveLength(200);
    const plan = await store.bridge.explain('task_queue', q);
    expect(plan.hot && plan.coldFiles.length > 0).toBe(true);

    const json = await cli('query', 'task_queue', ...args, ...args2, '--format', 'json');
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    expect((parseJsonExact(json.stdout) as Record<string, unknown>[]).map((r) => jsonRow(r, types))).toStrictEqual(want);

    const ndjson = await cli('query', 'task_queue', ...args, ...args2, '--format', 'ndjson');
    expect(ndjson.code).toBe(0);
    const lines = ndjson.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(200);
    expect(lines.map((l) => jsonRow(parseJsonExact(l) as Record<string, unknown>, types))).toStrictEqual(want);

    const csv = await cli('query', 'task_queue', ...args, ...args2, '--format', 'csv');
    expect(csv.code).toBe(0);
    expect(csvRows(csv.stdout, types)).toStrictEqual(want);

    const table = await cli('query', 'task_queue', ...args, ...args2, '--columns', 'id,status,created_at');
    expect(table.code).toBe(0);
    const tableLines = table.stdout.trimEnd().split('\n');
    expect(tableLines[0]).toMatch(/^\s*id\s+status\s+created_at$/);
    expect(tableLines).toHaveLength(200 + 3);
    expect(tableLines.at(-1)).toBe('(200 rows)');
    expect(tableLines[2]!.trim().split(/\s+/)).toEqual([String(want[0]!.id), 'failed', String(want[0]!.created_at)]);
  }, 60_000);

  it('query: TEXT with commas, quotes, newlines, empty strings and NULL, and 2^63-1 / -2^63 survive JSON and CSV', async () => {
    const types = kinds(store, 'task_queue');
    const want = await store.bridge.query('task_queue', { where: { task_type: 'tricky' } });
    expect(want.map((r) => r.payload)).toEqual(TRICKY);
    expect(want[0]!.msg_id).toBe(INT64_MAX);
    const csv = await cli('query', 'task_queue', '--where', 'task_type=tricky', '--format', 'csv');
    expect(csv.stdout).toContain(',9223372036854775807,');
    expect(csv.stdout).toContain(',-9223372036854775808,');
    expect(csvRows(csv.stdout, types)).toStrictEqual(want);
    const json = await cli('query', 'task_queue', '--where', 'task_type=tricky', '--format', 'json');
    expect(json.stdout).toContain('"msg_id":9223372036854775807');
    expect((parseJsonExact(json.stdout) as Record<string, unknown>[]).map((r) => jsonRow(r, types))).toStrictEqual(want);
    // An exact 64-bit --where value, on a hot and on a cold row.
    const byId = await cli('query', 'media_signatures', '--where', `msg_id=${INT64_MAX}`, '--format', 'ndjson', '--columns', 'id,msg_id,phash');
    expect(byId.code).toBe(0);
    const media = await store.bridge.query('media_signatures', { where: { msg_id: INT64_MAX }, columns: ['id', 'msg_id', 'phash'] });
    expect(media).toHaveLength(1);
    expect(byId.stdout).toBe(`{"id":${media[0]!.id},"msg_id":9223372036854775807,"phash":"${(media[0]!.phash as Buffer).toString('hex')}"}\n`);
    const cold = await cli('query', 'task_queue', '--where', `msg_id=${INT64_MIN}`, '--format', 'csv', '--columns', 'msg_id,payload');
    expect(cold.stdout).toBe('msg_id,payload\r\n-9223372036854775808,"say ""hi"""\r\n');
  }, 60_000);

  it('the encoders: csv quoting and exact JSON', () => {
    expect(csvLine(['a', 'b,c', 'd"e', '', null, 1n, 2.5, Buffer.from([1, 255])])).toBe('a,"b,c","d""e","",,1,2.5,01ff\r\n');
    expect(toJson({ a: INT64_MAX, b: [null, 1.5, 'x'], c: Buffer.from('hi') })).toBe('{"a":9223372036854775807,"b":[null,1.5,"x"],"c":"6869"}');
  });

  it('sql: prints bridge.sql rows with bound --param values; a write exits 1 naming the statement', async () => {
    const text = 'SELECT status, count(*) AS n, max(msg_id) AS top FROM task_queue WHERE created_at >= ? AND task_type <> ? GROUP BY status ORDER BY status';
    const want = await store.bridge.sql(text, [NOW_S - 25 * DAY_S, 'nothing']);
    const out = await cli('sql', text, '--param', String(NOW_S - 25 * DAY_S), '--param', 'nothing', '--format', 'ndjson');
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const types = new Map<string, Kind>([
      ['status', 'VARCHAR'],
      ['n', 'BIGINT'],
      ['top', 'BIGINT'],
    ]);
    expect(out.stdout.trimEnd().split('\n').map((l) => jsonRow(parseJsonExact(l) as Record<string, unknown>, types))).toStrictEqual(want);
    expect(out.stdout).toContain('9223372036854775807');

    for (const [statement, verb] of [
      ['INSERT INTO task_queue (id) VALUES (1)', 'INSERT'],
      ['DROP TABLE task_queue', 'DROP'],
    ]) {
      const refused = await cli('sql', statement!);
      expect(refused.code, statement).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(new RegExp(`read-only: ${verb} statements are refused`));
    }
  }, 60_000);

  it('explain: lists the cold files left after pruning and how many were pruned', async () => {
    const since = new Date(NOW_MS - 12 * DAY_S * 1000).toISOString();
    const until = new Date(NOW_MS - 10 * DAY_S * 1000).toISOString();
    const plan = await store.bridge.explain('task_queue', { where: { created_at: { gte: NOW_S - 12 * DAY_S, lt: NOW_S - 10 * DAY_S } } });
    const live = (await store.bridge.explain('task_queue', {})).coldFiles;
    expect(plan.coldFiles.length).toBeGreaterThan(0);
    expect(live.length - plan.coldFiles.length).toBeGreaterThan(10);
    const out = await cli('explain', 'task_queue', '--since', since, '--until', until);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('answered from cold');
    expect(out.stdout).toContain(`${plan.coldFiles.length} of ${live.length} live files read, ${live.length - plan.coldFiles.length} pruned`);
    const listed = out.stdout.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim());
    expect(listed).toEqual(plan.coldFiles);
    const recent = await cli('explain', 'task_queue', '--order', 'created_at:desc', '--limit', '5', '--json');
    expect(JSON.parse(recent.stdout)).toMatchObject({ tier: 'hot', hot: true, coldFiles: [], liveFiles: live.length });
  }, 60_000);

  it('export: csv, jsonl and parquet round-trip exactly and hold bridge.query’s row count; --out is never overwritten without --force', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'tierdb-export-'));
    try {
      for (const [table, filters, q] of [
        ['media_signatures', [], {}],
        ['task_queue', ['--where', 'priority<=2', '--until', new Date(NOW_MS - 3 * DAY_S * 1000).toISOString()], { where: { priority: { lte: 2 }, created_at: { lt: NOW_S - 3 * DAY_S } } }],
        ['task_queue', ['--where', 'task_type=tricky'], { where: { task_type: 'tricky' } }],
      ] as [string, string[], QueryOptions][]) {
        const want = await store.bridge.query(table, q);
        expect(want.length).toBeGreaterThan(0);
        const plan = await store.bridge.explain(table, q);
        expect(plan.coldFiles.length, table).toBeGreaterThan(0);
        const types = kinds(store, table);
        for (const format of ['csv', 'jsonl', 'parquet'] as const) {
          const file = path.join(out, `${table}-${want.length}.${format}`);
          const result = await cli('export', table, ...filters, '--format', format, '--out', file);
          expect(result.stderr, `${table} ${format}`).toBe('');
          expect(result.code).toBe(0);
          expect(result.stdout).toContain(`exported ${want.length} rows of ${table}`);
          let got: Row[];
          if (format === 'csv') got = csvRows(readFileSync(file, 'utf8'), types);
          else if (format === 'jsonl') {
            got = readFileSync(file, 'utf8')
              .trimEnd()
              .split('\n')
              .map((l) => jsonRow(parseJsonExact(l) as Record<string, unknown>, types));
          } else {
            const engine = await DuckDbEngine.create({ memoryLimit: '256MB', threads: 1 });
            try {
              got = readerToObjects(await engine.connection.runAndReadAll(`SELECT * FROM read_parquet(${sqlString(file)})`));
              const codec = await engine.connection.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata(${sqlString(file)})`);
              expect(codec.getRowsJS()).toEqual([['ZSTD']]);
            } finally {
              engine.close();
            }
          }
          expect(got.length, `${table} ${format}`).toBe(want.length);
          expect(got, `${table} ${format}`).toStrictEqual(want);
        }
      }

      const existing = path.join(out, 'existing.csv');
      writeFileSync(existing, 'keep me');
      const refused = await cli('export', 'media_signatures', '--format', 'csv', '--out', existing);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/already exists; pass --force/);
      expect(readFileSync(existing, 'utf8')).toBe('keep me');
      const forced = await cli('export', 'media_signatures', '--format', 'csv', '--out', existing, '--force');
      expect(forced.code).toBe(0);
      expect(csvRows(readFileSync(existing, 'utf8'), kinds(store, 'media_signatures'))).toStrictEqual(await store.bridge.query('media_signatures'));
      // No temp or spill files left beside the outputs.
      expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
