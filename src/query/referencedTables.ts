/**
 * Which registered tables a SQL text names (whole words, any case), for
 * statements DuckDB cannot serialize (see readSqlReferences). A name inside a
 * string literal counts too: materializing one table too many is harmless.
 */
export function referencedTables(sql: string, registered: readonly string[]): string[] {
  return registered.filter((name) => {
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`(?<![A-Za-z0-9_$])${escaped}(?![A-Za-z0-9_$])`, 'i').test(sql);
  });
}
