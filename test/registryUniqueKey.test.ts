import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import registry from '../archive-registry.js';
import { RegistryError } from '../src/errors.js';
import { defineRegistry, materializeRegistry, type RegistryEntryInput } from '../src/registry/defineRegistry.js';
import { resolveRegistry } from '../src/registry/resolveRegistry.js';
import { openTierStore } from '../src/store/openTierStore.js';
import { tempDir, testConfig } from './helpers.js';

const entry = (table: string, primaryKey?: string): RegistryEntryInput => ({
  table,
  timeColumn: 'at',
  timeUnit: 'unix_s',
  hotDays: 1,
  ...(primaryKey === undefined ? {} : { primaryKey }),
});

function resolve(ddl: string, e: RegistryEntryInput): unknown {
  const raw = new Database(':memory:');
  try {
    raw.exec(ddl);
    return resolveRegistry(raw, materializeRegistry(defineRegistry([e]), testConfig(tempDir())))[0]!.keyColumn;
  } catch (error) {
    return error;
  } finally {
    raw.close();
  }
}

describe('a registry key must be unique in SQLite', () => {
  it('refuses a primaryKey with no unique index, naming table, column and the fix', () => {
    const error = resolve('CREATE TABLE events (id INTEGER PRIMARY KEY, uuid TEXT, at INTEGER); CREATE INDEX events_uuid ON events (uuid)', entry('events', 'uuid'));
    expect(error).toBeInstanceOf(RegistryError);
    const message = (error as RegistryError).message;
    expect(message).toContain('events');
    expect(message).toContain('uuid');
    expect(message).toContain('CREATE UNIQUE INDEX');
    expect(message).toMatch(/ON "events" \("uuid"\)/);
  });

  it('refuses a partial unique index, a multi-column unique index and a unique index on an expression', () => {
    for (const ddl of [
      'CREATE TABLE events (uuid TEXT, at INTEGER); CREATE UNIQUE INDEX e_u ON events (uuid) WHERE uuid IS NOT NULL',
      'CREATE TABLE events (uuid TEXT, at INTEGER, UNIQUE (uuid, at))',
      'CREATE TABLE events (uuid TEXT, at INTEGER); CREATE UNIQUE INDEX e_u ON events (lower(uuid))',
      'CREATE TABLE events (uuid TEXT, at INTEGER, PRIMARY KEY (uuid, at))',
    ]) {
      expect(resolve(ddl, entry('events', 'uuid')), ddl).toBeInstanceOf(RegistryError);
    }
  });

  it('accepts the PRIMARY KEY (rowid alias, text, WITHOUT ROWID), a UNIQUE column and a full unique index', () => {
    const cases: [string, string | undefined][] = [
      ['CREATE TABLE events (id INTEGER PRIMARY KEY, at INTEGER)', undefined],
      ['CREATE TABLE events (id INTEGER PRIMARY KEY, at INTEGER)', 'id'],
      ['CREATE TABLE events (k TEXT PRIMARY KEY, at INTEGER)', 'k'],
      ['CREATE TABLE events (k TEXT PRIMARY KEY, at INTEGER) WITHOUT ROWID', undefined],
      ['CREATE TABLE events (id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, at INTEGER)', 'uuid'],
      ['CREATE TABLE events (id INTEGER PRIMARY KEY, uuid TEXT, at INTEGER); CREATE UNIQUE INDEX e_u ON events (uuid)', 'uuid'],
    ];
    for (const [ddl, key] of cases) expect(resolve(ddl, entry('events', key)), ddl).toBe(key ?? (ddl.includes('k TEXT') ? 'k' : 'id'));
  });

  it('every table of the shipped registry (demo schema) has a unique key', async () => {
    const store = await openTierStore({ config: testConfig(tempDir()), registry });
    try {
      expect(store.tables.map((t) => [t.table, t.keyColumn])).toEqual(
        expect.arrayContaining([
          ['messages', 'msg_id'],
          ['task_queue', 'id'],
        ]),
      );
    } finally {
      await store.close();
    }
  });
});
