/**
 * Independent readers of a published Iceberg table: a static HTTP server on
 * 127.0.0.1 for a local cold folder (icebird reads over HTTP), icebird for the
 * rows, avsc with the spec's manifest and manifest-list schemas (written here
 * from format/spec.md, not taken from src/) for every Avro file, and the
 * spec's required metadata fields. Rows are compared with the bridge's cold
 * rows: every row the bridge answers whose key is not hot.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import avro from 'avsc';
import { icebergMetadata, icebergRead } from 'icebird';
import { expect, onTestFinished } from 'vitest';
import type { TierStore } from '../src/store/openTierStore.js';

/** Serves `root` (or the folder a function names at each request) read-only on 127.0.0.1 (GET/HEAD with byte ranges); closed when the test finishes unless `closeAfterTest: false`. */
export async function serveFolder(root: string | (() => string), options: { closeAfterTest?: boolean } = {}): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = path.join(typeof root === 'string' ? root : root(), ...rel.split('/').filter((s) => s !== '' && s !== '..'));
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    const size = statSync(file).size;
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (m) {
      const start = Number(m[1]);
      const end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
      res.writeHead(206, { 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${size}`, 'accept-ranges': 'bytes' });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { 'content-length': size, 'accept-ranges': 'bytes' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  if (options.closeAfterTest !== false) onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

const opt = (name: string, type: unknown, fieldId: number) => ({ name, type: ['null', type], default: null, 'field-id': fieldId });
const req = (name: string, type: unknown, fieldId: number) => ({ name, type, 'field-id': fieldId });
const map = (k: number, v: number, value: string) => ({ type: 'array', logicalType: 'map', items: { type: 'record', name: `k${k}_v${v}`, fields: [req('key', 'int', k), req('value', value, v)] } });

/** The spec's v2 manifest_entry (format/spec.md "Manifest Entry Fields", "Data File Fields"), unpartitioned. */
export const SPEC_MANIFEST_ENTRY = {
  type: 'record',
  name: 'manifest_entry',
  fields: [
    req('status', 'int', 0),
    opt('snapshot_id', 'long', 1),
    opt('sequence_number', 'long', 3),
    opt('file_sequence_number', 'long', 4),
    req(
      'data_file',
      {
        type: 'record',
        name: 'r2',
        fields: [
          req('content', 'int', 134),
          req('file_path', 'string', 100),
          req('file_format', 'string', 101),
          req('partition', { type: 'record', name: 'r102', fields: [] }, 102),
          req('record_count', 'long', 103),
          req('file_size_in_bytes', 'long', 104),
          opt('column_sizes', map(117, 118, 'long'), 108),
          opt('value_counts', map(119, 120, 'long'), 109),
          opt('null_value_counts', map(121, 122, 'long'), 110),
          opt('nan_value_counts', map(138, 139, 'long'), 137),
          opt('lower_bounds', map(126, 127, 'bytes'), 125),
          opt('upper_bounds', map(129, 130, 'bytes'), 128),
          opt('key_metadata', 'bytes', 131),
          opt('split_offsets', { type: 'array', items: 'long' }, 132),
          opt('equality_ids', { type: 'array', items: 'int' }, 135),
          opt('sort_order_id', 'int', 140),
          opt('referenced_data_file', 'string', 143),
        ],
      },
      2,
    ),
  ],
};

/** The spec's v2 manifest_file (format/spec.md "Manifest Lists"). */
export const SPEC_MANIFEST_FILE = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    req('manifest_path', 'string', 500),
    req('manifest_length', 'long', 501),
    req('partition_spec_id', 'int', 502),
    req('content', 'int', 517),
    req('sequence_number', 'long', 515),
    req('min_sequence_number', 'long', 516),
    req('added_snapshot_id', 'long', 503),
    req('added_files_count', 'int', 504),
    req('existing_files_count', 'int', 505),
    req('deleted_files_count', 'int', 506),
    req('added_rows_count', 'long', 512),
    req('existing_rows_count', 'long', 513),
    req('deleted_rows_count', 'long', 514),
    opt(
      'partitions',
      { type: 'array', items: { type: 'record', name: 'r508', fields: [req('contains_null', 'boolean', 509), opt('contains_nan', 'boolean', 518), opt('lower_bound', 'bytes', 510), opt('upper_bound', 'bytes', 511)] } },
      507,
    ),
    opt('key_metadata', 'bytes', 519),
  ],
};

/** Every field id the spec gives, by the path of field names (checked against each Avro file's own writer schema). */
function fieldIds(schema: { fields: { name: string; type: unknown; 'field-id'?: number }[] }, prefix = ''): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of schema.fields) {
    if (f['field-id'] !== undefined) out.set(`${prefix}${f.name}`, f['field-id']);
    const inner = Array.isArray(f.type) ? f.type.find((t) => t !== 'null') : f.type;
    if (inner && typeof inner === 'object') {
      const rec = (inner as { type: string; items?: { type?: string; fields?: unknown[] } }).type === 'array' ? (inner as { items: unknown }).items : inner;
      if (rec && typeof rec === 'object' && (rec as { type?: string }).type === 'record') {
        for (const [k, v] of fieldIds(rec as { fields: { name: string; type: unknown }[] }, `${prefix}${f.name}.`)) out.set(k, v);
      }
    }
  }
  return out;
}

/** Decodes an Avro container with avsc against the spec's schema; checks the writer schema carries the spec's field ids; returns the records and the file's metadata. */
export async function decodeAvro(bytes: Buffer, spec: typeof SPEC_MANIFEST_ENTRY | typeof SPEC_MANIFEST_FILE): Promise<{ records: Record<string, unknown>[]; meta: Record<string, string> }> {
  let writerSchema: { fields: { name: string; type: unknown }[] } | undefined;
  const meta: Record<string, string> = {};
  const records: Record<string, unknown>[] = [];
  await new Promise<void>((resolve, reject) => {
    const decoder = new avro.streams.BlockDecoder({ readerSchema: spec, parseHook: (schema: unknown) => ((writerSchema = schema as typeof writerSchema), avro.Type.forSchema(schema as avro.Schema)) });
    decoder.on('metadata', (_type: unknown, _codec: string, header: { meta: Record<string, Buffer> }) => {
      for (const [k, v] of Object.entries(header.meta)) meta[k] = v.toString('utf8');
    });
    decoder.on('data', (r: Record<string, unknown>) => records.push(r));
    decoder.on('end', () => resolve());
    decoder.on('error', reject);
    decoder.end(bytes);
  });
  const want = fieldIds(spec as never);
  const got = fieldIds(writerSchema as never);
  for (const [p, id] of want) if (got.has(p)) expect({ p, id: got.get(p) }).toEqual({ p, id });
  for (const p of got.keys()) expect(want.has(p), `field ${p} is not in the spec's schema`).toBe(true);
  return { records, meta };
}

export const REQUIRED_V2_METADATA = [
  'format-version',
  'table-uuid',
  'location',
  'last-sequence-number',
  'last-updated-ms',
  'last-column-id',
  'schemas',
  'current-schema-id',
  'partition-specs',
  'default-spec-id',
  'last-partition-id',
  'sort-orders',
  'default-sort-order-id',
] as const;
const REQUIRED_V2_SNAPSHOT = ['snapshot-id', 'sequence-number', 'timestamp-ms', 'manifest-list', 'summary'] as const;

export interface IcebergMetadataJson {
  'format-version': number;
  'current-snapshot-id': number;
  'last-column-id': number;
  'current-schema-id': number;
  location: string;
  properties: Record<string, string>;
  schemas: { 'schema-id': number; fields: { id: number; name: string; type: string; required: boolean }[] }[];
  snapshots: { 'snapshot-id': number; 'sequence-number': number; 'timestamp-ms': number; 'manifest-list': string; summary: Record<string, string>; 'schema-id': number }[];
  'metadata-log': { 'metadata-file': string }[];
  [k: string]: unknown;
}

/** Fetches the metadata the hint names and checks the spec's required fields; every snapshot's manifest list and manifests decoded with avsc. */
export async function checkTableMetadata(tableUrl: string, get: (url: string) => Promise<Buffer> = fetchBytes): Promise<{ metadata: IcebergMetadataJson; entries: Record<string, unknown>[]; manifests: Record<string, unknown>[] }> {
  const hint = (await get(`${tableUrl}/metadata/version-hint.text`)).toString('utf8');
  expect(hint).toMatch(/^\d+$/);
  const metadata = JSON.parse((await get(`${tableUrl}/metadata/v${hint}.metadata.json`)).toString('utf8')) as IcebergMetadataJson;
  for (const f of REQUIRED_V2_METADATA) expect(metadata, `metadata field ${f}`).toHaveProperty([f]);
  expect(metadata['format-version']).toBe(2);
  expect(metadata.location).toBe(tableUrl);
  const current = metadata.snapshots.find((s) => s['snapshot-id'] === metadata['current-snapshot-id']);
  expect(current, 'the current snapshot is listed').toBeDefined();
  for (const s of metadata.snapshots) {
    for (const f of REQUIRED_V2_SNAPSHOT) expect(s, `snapshot field ${f}`).toHaveProperty([f]);
    expect(s.summary.operation).toMatch(/^(append|replace|overwrite|delete)$/);
  }
  for (const f of metadata['metadata-log'] ?? []) expect((await get(f['metadata-file'])).length).toBeGreaterThan(0);
  let entries: Record<string, unknown>[] = [];
  let manifests: Record<string, unknown>[] = [];
  for (const s of metadata.snapshots) {
    const list = await decodeAvro(await get(s['manifest-list']), SPEC_MANIFEST_FILE);
    expect(list.meta['format-version']).toBe('2');
    const all: Record<string, unknown>[] = [];
    for (const m of list.records) {
      const manifest = await decodeAvro(await get(m.manifest_path as string), SPEC_MANIFEST_ENTRY);
      for (const k of ['schema', 'schema-id', 'partition-spec', 'partition-spec-id', 'format-version', 'content']) expect(manifest.meta, `manifest metadata ${k}`).toHaveProperty([k]);
      expect(manifest.meta.content).toBe(m.content === 0 ? 'data' : 'deletes');
      expect(Number(m.manifest_length)).toBe((await get(m.manifest_path as string)).length);
      all.push(...manifest.records);
    }
    if (s['snapshot-id'] === metadata['current-snapshot-id']) {
      entries = all;
      manifests = list.records;
    }
  }
  return { metadata, entries, manifests };
}

export async function fetchBytes(url: string): Promise<Buffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** A value as both readers can be compared: bigint, number, string, hex of bytes, or null. */
export function norm(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString('hex')}`;
  return v;
}

/** The bridge's cold rows: every row it answers whose key is not hot, by key. */
export async function bridgeColdRows(store: TierStore, table: string): Promise<Map<string, Record<string, unknown>>> {
  const t = store.table(table);
  const hot = new Set((store.hot.raw.prepare(`SELECT "${t.keyColumn}" FROM "${table}"`).pluck().safeIntegers(true).all() as unknown[]).map(String));
  const rows = (await store.bridge.sql(`SELECT * FROM ${table}`)) as Record<string, unknown>[];
  return new Map(rows.filter((r) => !hot.has(String(r[t.keyColumn]))).map((r) => [String(r[t.keyColumn]), r]));
}

/** Reads the table with icebird and compares every row and every column with the bridge's cold rows (64-bit values exactly). */
export async function expectIcebirdEqualsBridge(store: TierStore, table: string, tableUrl: string): Promise<number> {
  const expected = await bridgeColdRows(store, table);
  const metadata = await icebergMetadata({ tableUrl });
  const rows = (await icebergRead({ tableUrl, metadata })) as Record<string, unknown>[];
  const key = store.table(table).keyColumn;
  const fields = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id'])!.fields;
  const columns = fields.map((f) => f.name);
  // icebird (hyparquet) hands a binary column out as UTF-8-decoded text: the bridge's bytes are compared after the same decoding.
  const binary = new Set(fields.filter((f) => f.type === 'binary').map((f) => f.name));
  const asIcebird = (c: string, v: unknown): unknown => (binary.has(c) && v instanceof Uint8Array ? new TextDecoder().decode(v) : norm(v));
  const got = new Map(rows.map((r) => [String(r[key]), r]));
  expect(got.size, `${table}: a key twice in the Iceberg table`).toBe(rows.length);
  expect([...got.keys()].sort(), `${table}: keys`).toEqual([...expected.keys()].sort());
  for (const [k, want] of expected) {
    const have = got.get(k)!;
    const a = Object.fromEntries(columns.map((c) => [c, asIcebird(c, have[c])]));
    const b = Object.fromEntries(columns.map((c) => [c, asIcebird(c, want[c])]));
    expect(a, `${table} row ${k}`).toStrictEqual(b);
  }
  return rows.length;
}
