/**
 * Long `in` lists on the hot side. SQLite binds at most 32,766 parameters per
 * statement, so a list longer than INLINE_IN_LIMIT reaches SQLite as one
 * parameter: a token, which the table-valued function `tierdb_in(token)`
 * (registered on the bridge's connection) turns back into the values. They keep
 * their exact type (bigint, Buffer), so `col IN (SELECT value FROM tierdb_in(?))`
 * compares like `col IN (?, ?, …)`.
 */
import type Database from 'better-sqlite3';

export const INLINE_IN_LIMIT = 500;

export class InList {
  constructor(readonly values: readonly unknown[]) {}
}

const lists = new Map<number, readonly unknown[]>();
let nextToken = 1;
const registered = new WeakSet<Database.Database>();

/** Registers `tierdb_in` on a connection (once). */
export function registerInList(db: Database.Database): void {
  if (registered.has(db)) return;
  db.table('tierdb_in', {
    columns: ['value'],
    parameters: ['list'],
    safeIntegers: true,
    *rows(token: unknown) {
      for (const value of lists.get(Number(token)) ?? []) yield [value];
    },
  });
  registered.add(db);
}

/** Runs a statement with its InList parameters bound as tokens; the lists are released afterwards. */
export function withInLists<T>(params: readonly unknown[], run: (bound: unknown[]) => T): T {
  if (!params.some((p) => p instanceof InList)) return run(params as unknown[]);
  const tokens: number[] = [];
  try {
    const bound = params.map((p) => {
      if (!(p instanceof InList)) return p;
      const token = nextToken++;
      lists.set(token, p.values);
      tokens.push(token);
      return token;
    });
    return run(bound);
  } finally {
    for (const token of tokens) lists.delete(token);
  }
}
