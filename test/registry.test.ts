import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { RegistryError } from '../src/errors.js';
import { APP_MIGRATIONS } from '../src/presets/wechat/wechatPreset.js';
import { wechatHotDays } from '../src/presets/wechat/wechatHotDays.js';
import { taskQueue } from '../src/presets/wechat/schema.js';
import { defineRegistry, materializeRegistry, type RegistryEntryInput } from '../src/registry/defineRegistry.js';
import { openTierStore, type TierStore } from '../src/store/openTierStore.js';
import { tempDir, testConfig } from './helpers.js';

const entry = (over: Partial<RegistryEntryInput> = {}): RegistryEntryInput => ({
  table: 'task_queue',
  timeColumn: 'created_at',
  timeUnit: 'unix_s',
  hotDays: 7,
  ...over,
});

/** Opens a store on the demo schema (or, with `setup`, on an app database made by hand). */
async function open(entries: RegistryEntryInput[], setup?: (raw: Database.Database) => void): Promise<TierStore> {
  const dataDir = tempDir();
  const config = testConfig(dataDir);
  if (setup) {
    const raw = new Database(path.join(dataDir, 'hot.db'));
    setup(raw);
    raw.close();
  }
  const store = await openTierStore({ config, registry: defineRegistry(entries), migrations: setup ? false : APP_MIGRATIONS });
  onTestFinished(() => store.close());
  return store;
}

async function registryError(promise: Promise<unknown>): Promise<RegistryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RegistryError);
  return error as RegistryError;
}

describe('registry entries against the database', () => {
  it('fail naming a missing table', async () => {
    const error = await registryError(open([entry({ table: 'forward_log' })]));
    expect(error.message).toContain('forward_log');
    expect(error.code).toBe('TIERDB_REGISTRY');
  });

  it('fail naming a missing time column', async () => {
    const error = await registryError(open([entry({ timeColumn: 'create_time' })]));
    expect(error.message).toContain('task_queue');
    expect(error.message).toContain('create_time');
  });

  it('fail naming a missing primaryKey column', async () => {
    const error = await registryError(open([entry({ primaryKey: 'task_id' })]));
    expect(error.message).toContain('task_id');
  });

  it('resolve a drizzle table with its columns and key', async () => {
    const store = await open([entry({ table: taskQueue })]);
    const t = store.table('task_queue');
    expect(t.keyColumn).toBe('id');
    expect(t.columns.map((c) => c.name)).toContain('created_at');
  });

  it('resolve a table created outside drizzle with its columns and primary key', async () => {
    const store = await open(
      [
        { table: 'forward_log', timeColumn: 'ts', timeUnit: 'unix_ms', hotDays: 3 },
        { table: 'contacts', timeColumn: 'updated', timeUnit: 'iso', hotDays: 30 },
      ],
      (raw) =>
        raw.exec(`
          CREATE TABLE forward_log (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, body TEXT);
          CREATE TABLE contacts (wxid TEXT PRIMARY KEY, nick TEXT, updated TEXT NOT NULL);
        `),
    );
    const log = store.table('forward_log');
    expect(log.columns).toEqual([
      { name: 'id', declaredType: 'INTEGER', notNull: false, pk: 1 },
      { name: 'ts', declaredType: 'INTEGER', notNull: true, pk: 0 },
      { name: 'body', declaredType: 'TEXT', notNull: false, pk: 0 },
    ]);
    expect(log.keyColumn).toBe('id');
    expect(store.table('contacts').keyColumn).toBe('wxid');
    expect(() => store.table('messages')).toThrow(/messages.*not registered/);
  });

  it('fail clearly on a table without a primary key, unless primaryKey names one', async () => {
    const create = (raw: Database.Database) => raw.exec('CREATE TABLE events (uuid TEXT NOT NULL UNIQUE, at INTEGER NOT NULL, what TEXT)');
    const error = await registryError(open([{ table: 'events', timeColumn: 'at', timeUnit: 'unix_s', hotDays: 1 }], create));
    expect(error.message).toMatch(/events.*no primary key.*primaryKey/);

    const store = await open([{ table: 'events', timeColumn: 'at', timeUnit: 'unix_s', hotDays: 1, primaryKey: 'uuid' }], create);
    expect(store.table('events').keyColumn).toBe('uuid');
  });

  it('fail on a composite primary key without primaryKey', async () => {
    const error = await registryError(
      open([{ table: 'pairs', timeColumn: 'at', timeUnit: 'unix_s', hotDays: 1 }], (raw) =>
        raw.exec('CREATE TABLE pairs (a INTEGER, b INTEGER, at INTEGER, PRIMARY KEY (a, b))'),
      ),
    );
    expect(error.message).toMatch(/pairs.*composite primary key \(a, b\)/);
  });
});

describe('defineRegistry', () => {
  it.each([
    [{ timeUnit: 'seconds' as never }, 'timeUnit', '"seconds"'],
    [{ hotDays: -1 }, 'hotDays', '-1'],
    [{ hotDays: 1.5 }, 'hotDays', '1.5'],
    [{ partition: 'week' as never }, 'partition', '"week"'],
    [{ batchSize: 0 }, 'batchSize', '0'],
    [{ batchSize: 2.5 }, 'batchSize', '2.5'],
    [{ timeColumn: '' }, 'timeColumn', 'task_queue'],
    [{ table: 'drop table x' }, 'table', '"drop table x"'],
    [{ table: '_tierdb_files' }, '_tierdb_files', "tierdb's own"],
  ])('rejects %o naming %s', (over, field, value) => {
    let error: unknown;
    try {
      defineRegistry([entry(over)]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as Error).message).toContain(field);
    expect((error as Error).message).toContain(value);
  });

  it('rejects a table registered twice', () => {
    expect(() => defineRegistry([entry(), entry({ table: taskQueue })])).toThrow(/task_queue is registered twice/);
  });

  it('orders entries by priority, lowest first, keeping the given order on ties', () => {
    const registry = defineRegistry([
      entry({ table: 'a', priority: 5 }),
      entry({ table: 'b' }),
      entry({ table: 'c', priority: 1 }),
      entry({ table: 'd', priority: 5 }),
      entry({ table: 'e', priority: -2 }),
    ]);
    const tables = materializeRegistry(registry, testConfig(tempDir())).map((e) => e.table);
    expect(tables).toEqual(['e', 'c', 'a', 'd', 'b']);
  });

  it('fills defaults and freezes entries', () => {
    const [e] = materializeRegistry(defineRegistry([entry()]), testConfig(tempDir()));
    expect(e).toEqual({
      table: 'task_queue',
      timeColumn: 'created_at',
      timeUnit: 'unix_s',
      hotDays: 7,
      primaryKey: undefined,
      enabled: true,
      priority: 100,
      partition: 'day',
      batchSize: undefined,
      appAssignsKeys: false,
      hotDaysFrom: 'registry',
      coldDays: undefined,
      coldDaysFrom: 'registry',
    });
    expect(Object.isFrozen(e)).toBe(true);
  });

  it('takes hotDays from the config when given a function', () => {
    const definition = defineRegistry((config) => [entry({ hotDays: wechatHotDays(config).task })]);
    const [e] = materializeRegistry(definition, testConfig(tempDir(), { HOT_DAYS_TASK: '21' }));
    expect(e?.hotDays).toBe(21);
  });

  it('keeps tables the store resolves in priority order', async () => {
    const store = await open([entry({ table: 'messages', timeColumn: 'create_time', priority: 9 }), entry({ priority: 2 })]);
    expect(store.tables.map((t) => t.table)).toEqual(['task_queue', 'messages']);
  });
});

describe('a generic core', () => {
  it("opening a user's database with the user's registry creates only tierdb's _tierdb_ tables; the demo registry brings the demo schema", async () => {
    const dataDir = tempDir();
    const raw = new Database(path.join(dataDir, 'hot.db'));
    raw.exec('CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL)');
    raw.close();
    const store = await openTierStore({ config: testConfig(dataDir), registry: [{ table: 'events', timeColumn: 'at', timeUnit: 'unix_s', hotDays: 3 }] });
    const tables = store.hot.raw.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).pluck().all() as string[];
    await store.close();
    expect(tables.filter((t) => !t.startsWith('_tierdb_'))).toEqual(['events']);
    const { wechatRegistry: demoRegistry } = await import('../src/presets/wechat/wechatPreset.js');
    const demo = await openTierStore({ config: testConfig(tempDir()), registry: demoRegistry });
    const demoTables = demo.tables.map((t) => t.table);
    await demo.close();
    expect(demoTables).toEqual(['task_queue', 'messages', 'rule_logs', 'audit_logs', 'media_signatures']);
  });
});
