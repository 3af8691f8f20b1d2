/**
 * tierdb's Avro container writer (src/iceberg/avroFile.ts) decoded by avsc:
 * longs over the whole 64-bit range (numbers and bigints), ints, null unions,
 * arrays, bytes and strings round-trip exactly; Iceberg's single-value bounds.
 */
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { encodeAvroFile, type AvroRecordSchema } from '../src/iceberg/avroFile.js';
import { boundBytes } from '../src/iceberg/singleValue.js';

const bigLong = avro.types.LongType.__with({
  fromBuffer: (b: Buffer) => b.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(n);
    return b;
  },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

function decode(buf: Buffer): Promise<{ records: Record<string, unknown>[]; meta: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const records: Record<string, unknown>[] = [];
    const meta: Record<string, string> = {};
    const dec = new avro.streams.BlockDecoder({ parseHook: (s: unknown) => avro.Type.forSchema(s as avro.Schema, { registry: { long: bigLong } }) });
    dec.on('metadata', (_t: unknown, _c: string, header: { meta: Record<string, Buffer> }) => {
      for (const [k, v] of Object.entries(header.meta)) meta[k] = v.toString('utf8');
    });
    dec.on('data', (r: Record<string, unknown>) => records.push(r));
    dec.on('end', () => resolve({ records, meta }));
    dec.on('error', reject);
    dec.end(buf);
  });
}

describe('Avro container writer', () => {
  it('round-trips every value through avsc', async () => {
    const schema: AvroRecordSchema = {
      type: 'record',
      name: 'r',
      fields: [
        { name: 'l', type: 'long' },
        { name: 'o', type: ['null', 'long'] },
        { name: 'i', type: 'int' },
        { name: 's', type: 'string' },
        { name: 'b', type: ['null', 'bytes'] },
        { name: 'a', type: { type: 'array', items: { type: 'record', name: 'kv', fields: [{ name: 'key', type: 'int' }, { name: 'value', type: 'long' }] } } },
        { name: 'f', type: 'boolean' },
      ],
    };
    const longs: (number | bigint)[] = [0, 1, -1, 63, -64, 64, 2 ** 31, -(2 ** 31), 2 ** 52 - 1, -(2 ** 52) + 1, 2 ** 53 - 1, 2n ** 60n, -(2n ** 62n), 2n ** 63n - 1n, -(2n ** 63n)];
    const records = longs.map((l, n) => ({ l, o: n % 2 ? null : l, i: n % 2 ? 2 ** 31 - 1 : -(2 ** 31), s: `任务 ${n} 🚀`, b: n % 3 ? Buffer.from([n, 0, 255]) : null, a: Array.from({ length: n % 4 }, (_, k) => ({ key: k, value: l })), f: n % 2 === 0 }));
    const { records: got, meta } = await decode(encodeAvroFile(schema, records, { 'format-version': '2' }));
    expect(meta['format-version']).toBe('2');
    expect(meta['avro.codec']).toBe('null');
    expect(got.length).toBe(records.length);
    got.forEach((r, n) => {
      const want = records[n]!;
      expect(r.l).toBe(BigInt(want.l));
      expect(r.o).toBe(want.o === null ? null : BigInt(want.o));
      expect([r.i, r.s, r.f]).toEqual([want.i, want.s, want.f]);
      expect(r.b === null ? null : Buffer.from(r.b as Buffer)).toEqual(want.b);
      expect((r.a as { key: number; value: bigint }[]).map((x) => [x.key, x.value])).toEqual(want.a.map((x) => [x.key, BigInt(x.value)]));
    });
    expect(() => encodeAvroFile(schema, [{ ...records[0], l: 2n ** 63n }])).toThrow(/outside Avro's long range/);
  });

  it('serializes bounds as the spec asks (Appendix D)', () => {
    expect(Buffer.from(boundBytes('BIGINT', '9223372036854775807', 'lower')!).readBigInt64LE()).toBe(9223372036854775807n);
    expect(Object.is(Buffer.from(boundBytes('DOUBLE', '0.0', 'lower')!).readDoubleLE(), -0)).toBe(true);
    expect(Object.is(Buffer.from(boundBytes('DOUBLE', '0.0', 'upper')!).readDoubleLE(), 0)).toBe(true);
    expect(boundBytes('DOUBLE', 'nan', 'upper')).toBeUndefined();
    expect(Buffer.from(boundBytes('VARCHAR', 'héllo', 'lower')!).toString('utf8')).toBe('héllo');
    const long = 'x'.repeat(100);
    expect(Buffer.from(boundBytes('VARCHAR', long, 'lower')!).toString()).toBe('x'.repeat(16));
    expect(boundBytes('VARCHAR', long, 'upper')).toBeUndefined();
    expect(boundBytes('BLOB', 'ab', 'lower')).toBeUndefined();
  });
});
