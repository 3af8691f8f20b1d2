/**
 * Writes Avro object container files (Avro 1.11 spec, "Object Container
 * Files"), driven by the schema: the small subset Iceberg's manifests and
 * manifest lists use — records, arrays, `["null", T]` unions, int, long
 * (bigint or number), boolean, string, bytes. Codec `null` (every Iceberg
 * reader accepts it). Every named type is written inline, never referenced
 * by name, so readers that resolve no named references still read it.
 *
 * @example
 * const bytes = encodeAvroFile(manifestFileSchema(), [entry], { 'format-version': '2' });
 */
import { randomBytes } from 'node:crypto';

export type AvroPrimitive = 'null' | 'boolean' | 'int' | 'long' | 'string' | 'bytes';
export interface AvroRecordSchema {
  readonly type: 'record';
  readonly name: string;
  readonly fields: readonly AvroField[];
}
export interface AvroArraySchema {
  readonly type: 'array';
  readonly items: AvroSchema;
  readonly [extra: string]: unknown;
}
export type AvroSchema = AvroPrimitive | AvroRecordSchema | AvroArraySchema | readonly AvroSchema[];
export interface AvroField {
  readonly name: string;
  readonly type: AvroSchema;
  readonly [extra: string]: unknown;
}

/** A growable byte buffer with Avro's binary encodings. */
class AvroWriter {
  #buf = Buffer.allocUnsafe(4096);
  #len = 0;

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#len + n));
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }

  /** zig-zag varint of a 64-bit signed value (plain arithmetic within ±2^52, bigint beyond). */
  long(value: bigint | number): void {
    if (typeof value === 'number' ? Math.abs(value) < 2 ** 52 : value > -(2n ** 52n) && value < 2n ** 52n) {
      const n = Number(value);
      if (!Number.isInteger(n)) throw new RangeError(`${n} is not an Avro long`);
      let v = n >= 0 ? n * 2 : -n * 2 - 1;
      this.#reserve(8);
      while (v >= 0x80) {
        this.#buf[this.#len++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      this.#buf[this.#len++] = v;
      return;
    }
    let v = typeof value === 'bigint' ? value : BigInt(value);
    if (v < -(2n ** 63n) || v >= 2n ** 63n) throw new RangeError(`${v} is outside Avro's long range`);
    v = v >= 0n ? v << 1n : (-v << 1n) - 1n;
    this.#reserve(10);
    while (v >= 0x80n) {
      this.#buf[this.#len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.#buf[this.#len++] = Number(v);
  }

  int(value: number): void {
    if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) throw new RangeError(`${value} is not an Avro int`);
    // Small ints without bigint arithmetic: zig-zag fits in 32 unsigned bits.
    let v = value >= 0 ? value * 2 : -value * 2 - 1;
    this.#reserve(5);
    while (v >= 0x80) {
      this.#buf[this.#len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.#buf[this.#len++] = v;
  }

  bytes(value: Uint8Array): void {
    this.long(value.length);
    this.raw(value);
  }

  raw(value: Uint8Array): void {
    this.#reserve(value.length);
    this.#buf.set(value, this.#len);
    this.#len += value.length;
  }

  byte(value: number): void {
    this.#reserve(1);
    this.#buf[this.#len++] = value;
  }

  string(value: string): void {
    this.bytes(Buffer.from(value, 'utf8'));
  }

  result(): Buffer {
    return this.#buf.subarray(0, this.#len);
  }
}

function describe(schema: AvroSchema): string {
  return typeof schema === 'string' ? schema : Array.isArray(schema) ? 'union' : (schema as AvroRecordSchema | AvroArraySchema).type;
}

function encodeValue(w: AvroWriter, schema: AvroSchema, value: unknown, at: string): void {
  if (Array.isArray(schema)) {
    // Iceberg's only union: ["null", T].
    const branches = schema as readonly AvroSchema[];
    const nullIndex = branches.indexOf('null');
    if (value === null || value === undefined) {
      if (nullIndex < 0) throw new TypeError(`${at}: null for a union without null`);
      w.long(nullIndex);
      return;
    }
    const index = branches.findIndex((b) => b !== 'null');
    w.long(index);
    encodeValue(w, branches[index]!, value, at);
    return;
  }
  if (typeof schema === 'string') {
    switch (schema) {
      case 'null':
        return;
      case 'boolean':
        w.byte(value ? 1 : 0);
        return;
      case 'int':
        w.int(value as number);
        return;
      case 'long':
        if (typeof value !== 'bigint' && typeof value !== 'number') throw new TypeError(`${at}: ${typeof value} for a long`);
        w.long(value);
        return;
      case 'string':
        if (typeof value !== 'string') throw new TypeError(`${at}: ${typeof value} for a string`);
        w.string(value);
        return;
      case 'bytes':
        if (!(value instanceof Uint8Array)) throw new TypeError(`${at}: ${typeof value} for bytes`);
        w.bytes(value);
        return;
    }
  }
  const complex = schema as AvroRecordSchema | AvroArraySchema;
  if (complex.type === 'record') {
    if (value === null || typeof value !== 'object') throw new TypeError(`${at}: ${value === null ? 'null' : typeof value} for record ${complex.name}`);
    const obj = value as Record<string, unknown>;
    for (const f of complex.fields) encodeValue(w, f.type, obj[f.name], `${at}.${f.name}`);
    return;
  }
  if (complex.type === 'array') {
    if (!Array.isArray(value)) throw new TypeError(`${at}: ${typeof value} for an array`);
    if (value.length > 0) {
      w.long(value.length);
      for (let i = 0; i < value.length; i++) encodeValue(w, complex.items, value[i], `${at}[${i}]`);
    }
    w.long(0);
    return;
  }
  throw new TypeError(`${at}: unsupported Avro type ${describe(schema)}`);
}

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);

/**
 * One Avro object container file: header (magic, metadata with `avro.schema`
 * and `avro.codec`, a random 16-byte sync marker), then the records in one
 * block. `metadata` adds key/value pairs (Iceberg's `schema`, `partition-spec`…).
 */
export function encodeAvroFile(schema: AvroRecordSchema, records: readonly unknown[], metadata: Record<string, string> = {}): Buffer {
  const sync = randomBytes(16);
  const head = new AvroWriter();
  head.raw(MAGIC);
  const meta: [string, string][] = [['avro.schema', JSON.stringify(schema)], ['avro.codec', 'null'], ...Object.entries(metadata)];
  head.long(meta.length);
  for (const [k, v] of meta) {
    head.string(k);
    head.bytes(Buffer.from(v, 'utf8'));
  }
  head.long(0);
  head.raw(sync);
  if (records.length > 0) {
    const body = new AvroWriter();
    for (let i = 0; i < records.length; i++) encodeValue(body, schema, records[i], `${schema.name}[${i}]`);
    const data = body.result();
    head.long(records.length);
    head.long(data.length);
    head.raw(data);
    head.raw(sync);
  }
  return Buffer.from(head.result());
}
