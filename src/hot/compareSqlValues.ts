/**
 * Compares two values the way SQLite's BINARY collation orders them within one
 * storage class: numbers numerically (bigint and number mixed exactly), text by
 * UTF-8 bytes, blobs by bytes. Values of different classes are not compared.
 */
export function compareSqlValues(a: unknown, b: unknown): number | undefined {
  const aNum = typeof a === 'bigint' || typeof a === 'number';
  const bNum = typeof b === 'bigint' || typeof b === 'number';
  if (aNum && bNum) {
    // `<` between bigint and number is exact in JS.
    return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') {
    return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  }
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b);
  return undefined;
}
