/**
 * bridge.sql runs reads only. Two checks: the statement's leading verb (before
 * anything is materialized; PRAGMA, for one, prepares as a SELECT in DuckDB),
 * then the prepared statement's type (`WITH … INSERT` and the like).
 * Everything else is a ReadOnlyError naming the statement.
 */
import { StatementType } from '../cold/duckdbApi.js';
import { ArgumentError, ReadOnlyError } from '../errors.js';

/** Verbs of statements that only read. DESCRIBE/SHOW/SUMMARIZE prepare as SELECT in DuckDB. */
const READ_VERBS = new Set(['SELECT', 'WITH', 'FROM', 'VALUES', 'TABLE', 'EXPLAIN', 'DESCRIBE', 'SHOW', 'SUMMARIZE', 'PIVOT', 'UNPIVOT']);
/** Verbs that can follow a WITH clause at the top level. */
const MAIN_VERBS = new Set(['SELECT', 'FROM', 'VALUES', 'TABLE', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'PIVOT', 'UNPIVOT', 'COPY', 'CREATE']);

interface Word {
  word: string;
  depth: number;
}

/** Splits SQL into statements' words, skipping comments (as DuckDB reads them), strings and quoted names. */
export function statementWords(sql: string): Word[][] {
  const statements: Word[][] = [[]];
  let depth = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const ch = sql[i]!;
    if (ch === '-' && sql[i + 1] === '-') {
      // DuckDB ends a line comment at a bare CR too.
      let j = i + 2;
      while (j < n && sql[j] !== '\n' && sql[j] !== '\r') j++;
      i = j + 1;
    } else if (ch === '/' && sql[i + 1] === '*') {
      // DuckDB nests block comments: `/* /* */ still a comment */`.
      let nested = 1;
      let j = i + 2;
      while (j < n && nested > 0) {
        if (sql[j] === '/' && sql[j + 1] === '*') {
          nested++;
          j += 2;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          nested--;
          j += 2;
        } else j++;
      }
      i = j;
    } else if (ch === "'" || ch === '"' || ch === '`') {
      let j = i + 1;
      for (;;) {
        const end = sql.indexOf(ch, j);
        if (end < 0) {
          j = n;
          break;
        }
        if (sql[end + 1] === ch) j = end + 2;
        else {
          j = end + 1;
          break;
        }
      }
      i = j;
    } else if (ch === '$' && /^\$[A-Za-z_]*\$/.test(sql.slice(i, i + 64))) {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i, i + 64))![0];
      const end = sql.indexOf(tag, i + tag.length);
      i = end < 0 ? n : end + tag.length;
    } else if (ch === '(') {
      depth++;
      i++;
    } else if (ch === ')') {
      depth = Math.max(0, depth - 1);
      i++;
    } else if (ch === ';') {
      if (depth === 0) statements.push([]);
      i++;
    } else if (/[A-Za-z_]/.test(ch)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$]/.test(sql[j]!)) j++;
      statements[statements.length - 1]!.push({ word: sql.slice(i, j).toUpperCase(), depth });
      i = j;
    } else i++;
  }
  return statements.filter((s) => s.length > 0);
}

/** The verb that decides what a statement does: its first word, or for WITH the first main verb at the top level. */
export function statementVerb(words: readonly Word[]): string {
  const first = words[0]?.word ?? '';
  if (first !== 'WITH') return first;
  const main = words.find((w, i) => i > 0 && w.depth === words[0]!.depth && MAIN_VERBS.has(w.word));
  return main?.word ?? 'WITH';
}

function refuse(verb: string): never {
  throw new ReadOnlyError(`bridge.sql is read-only: ${verb} statements are refused (only SELECT, WITH … SELECT and EXPLAIN SELECT run)`);
}

/** The text check, before anything runs. Returns the statement's verb. */
export function assertReadOnlyText(sql: string): string {
  if (typeof sql !== 'string') throw new ArgumentError('bridge.sql: sql must be a string');
  const statements = statementWords(sql);
  if (statements.length === 0) throw new ArgumentError('bridge.sql: no statement given');
  for (const words of statements) {
    const verb = statementVerb(words);
    if (!READ_VERBS.has(verb) || (verb === 'WITH' && words.every((w) => w.word !== 'SELECT'))) refuse(verb);
    if (verb === 'EXPLAIN') {
      // Skip ANALYZE and an option list such as (FORMAT json).
      let k = 1;
      while (k < words.length && (words[k]!.word === 'ANALYZE' || words[k]!.word === 'ANALYSE' || words[k]!.depth > words[0]!.depth)) k++;
      const innerVerb = statementVerb(words.slice(k));
      if (!READ_VERBS.has(innerVerb) || innerVerb === 'EXPLAIN') refuse(`EXPLAIN ${innerVerb}`);
    }
  }
  if (statements.length > 1) throw new ArgumentError(`bridge.sql runs one statement at a time; got ${statements.length}`);
  return statementVerb(statements[0]!);
}

/** The prepared-statement check: only SELECT and EXPLAIN. */
export function assertReadOnlyType(type: StatementType): void {
  if (type === StatementType.SELECT || type === StatementType.EXPLAIN) return;
  refuse(StatementType[type] ?? `statement type ${type}`);
}
