/**
 * A column's type affinity from its declared type, by SQLite's rules
 * (https://sqlite.org/datatype3.html §3.1, in that order). An untyped column
 * has BLOB affinity: it keeps whatever class it is given.
 */
export type SqliteAffinity = 'INTEGER' | 'TEXT' | 'BLOB' | 'REAL' | 'NUMERIC';

export function sqliteAffinity(declaredType: string): SqliteAffinity {
  const t = declaredType.toUpperCase();
  if (t.includes('INT')) return 'INTEGER';
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'TEXT';
  if (t === '' || t.includes('BLOB')) return 'BLOB';
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'REAL';
  return 'NUMERIC';
}
