/**
 * Decides the DuckDB type of each column for one query: the column's known
 * type (declared affinity, else the newest cold file's), else the class of
 * its first non-NULL hot value, else VARCHAR. Hot values of another class are
 * brought to the column's type when that is exact (integer ↔ real); any other
 * mismatch is a MixedTypeError naming the row, as the archiver reports it.
 */
import { classOf, TYPE_OF_CLASS, type ColdType } from '../cold/columnTypes.js';
import { MixedTypeError } from '../errors.js';
import type { TableShape } from './tableShape.js';


/**
 * `strict: false` (hot-only answers) leaves a value that cannot be brought to its column's type as it is.
 * `known`: the types decided already (from earlier rows of the same read), checked and applied to these rows.
 */
export function decideColumnTypes(shape: TableShape, hotRows: unknown[][], strict = true, known?: readonly ColdType[]): ColdType[] {
  const types = known ? [...known] : shape.columns.map((c, i) => {
    if (c.type !== undefined) return c.type;
    for (const row of hotRows) {
      const cls = classOf(row[i]);
      if (cls !== null) return TYPE_OF_CLASS[cls];
    }
    return 'VARCHAR' as ColdType;
  });
  for (const row of hotRows) {
    for (let i = 0; i < types.length; i++) {
      const v = row[i];
      if (v === null || v === undefined) continue;
      const type = types[i]!;
      const cls = classOf(v)!;
      if (TYPE_OF_CLASS[cls] === type) continue;
      if (type === 'DOUBLE' && cls === 'integer') row[i] = Number(v);
      else if (type === 'BIGINT' && cls === 'real' && Number.isSafeInteger(v)) row[i] = BigInt(v as number);
      else if (strict) {
        throw new MixedTypeError(
          `${shape.table}.${shape.names[i]} holds a ${cls} value${shape.keyIndex < 0 ? '' : ` at ${shape.keyColumn}=${String(row[shape.keyIndex])}`}, ` +
            `but the column is ${type}; fix the value or declare the column with the type it really holds`,
        );
      }
    }
  }
  return types;
}
