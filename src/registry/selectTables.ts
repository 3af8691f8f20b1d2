import { ArgumentError } from '../errors.js';
import type { ResolvedTable } from './resolveRegistry.js';

/** The registered tables a job was asked for (every enabled one when none are named); an unregistered name is an error naming it. */
export function selectTables(tables: readonly ResolvedTable[], names: readonly string[] | undefined): ResolvedTable[] {
  if (names === undefined) return tables.filter((t) => t.enabled);
  const registered = new Map(tables.map((t) => [t.table, t]));
  return names.map((n) => {
    const t = registered.get(n);
    if (!t) throw new ArgumentError(`table ${JSON.stringify(n)} is not registered (registered: ${[...registered.keys()].join(', ')})`);
    return t;
  });
}
