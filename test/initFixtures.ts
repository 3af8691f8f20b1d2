/**
 * An app database tierdb has never seen, for `tierdb init` tests: tables in
 * each time unit, one ISO value with an offset, a table without a time column,
 * one without a key, and an INTEGER PRIMARY KEY without AUTOINCREMENT.
 */
import Database from 'better-sqlite3';

/** The clock of the init tests: 2026-06-15T00:00:00Z. */
export const INIT_NOW_MS = Date.UTC(2026, 5, 15);
const DAY_MS = 86_400_000;

/** Row i of n lies `age(i)` ms before NOW: spread evenly over `days` days, newest first, never on a day edge. */
function ageMs(i: number, n: number, days: number): number {
  return Math.floor(((i + 0.37) * days * DAY_MS) / n);
}

export interface AppDbCounts {
  events: number;
  sessions: number;
  audit_log: number;
  settings: number;
  page_views: number;
  orders: number;
}

/** The rows of each table whose time is older than `days` days before NOW (exactly, by the generator). */
export function olderThan(table: 'events' | 'sessions' | 'audit_log' | 'page_views' | 'orders', days: number, counts: AppDbCounts): number {
  const spec = SPANS[table];
  let n = 0;
  for (let i = 0; i < counts[table]; i++) if (ageMs(i, counts[table], spec) >= days * DAY_MS) n++;
  return n;
}

const SPANS = { events: 400, sessions: 200, audit_log: 100, page_views: 60, orders: 120 } as const;

/**
 * Writes the app database at `file` and returns its row counts. `wal` leaves it
 * in WAL mode (the default is rollback-journal `delete`).
 */
export function makeAppDb(file: string, options: { wal?: boolean; scale?: number } = {}): AppDbCounts {
  const scale = options.scale ?? 1;
  const counts: AppDbCounts = {
    events: 6000 * scale,
    sessions: 1500 * scale,
    audit_log: 800 * scale,
    settings: 20,
    page_views: 900 * scale,
    orders: 1200 * scale,
  };
  const db = new Database(file);
  try {
    if (options.wal) db.pragma('journal_mode = WAL');
    db.exec(`
      CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, kind TEXT NOT NULL, payload TEXT);
      CREATE INDEX events_ts ON events (ts);
      CREATE TABLE sessions (session_id TEXT PRIMARY KEY, user_id INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER);
      CREATE TABLE audit_log (uuid TEXT NOT NULL UNIQUE, actor TEXT, action TEXT, created_at TEXT NOT NULL);
      CREATE INDEX audit_log_created ON audit_log (created_at);
      CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT);
      CREATE TABLE page_views (path TEXT NOT NULL, viewed_at INTEGER NOT NULL, ms INTEGER);
      CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, total REAL, created_at INTEGER NOT NULL);
      CREATE INDEX orders_created ON orders (created_at);
    `);
    const at = (table: keyof typeof SPANS, i: number) => INIT_NOW_MS - ageMs(i, counts[table], SPANS[table]);
    db.transaction(() => {
      const ev = db.prepare('INSERT INTO events (ts, kind, payload) VALUES (?, ?, ?)');
      for (let i = 0; i < counts.events; i++) ev.run(at('events', i), ['click', 'view', 'buy'][i % 3], JSON.stringify({ i, note: `事件 ${i}` }));
      const se = db.prepare('INSERT INTO sessions VALUES (?, ?, ?, ?)');
      for (let i = 0; i < counts.sessions; i++) {
        const s = Math.floor(at('sessions', i) / 1000);
        se.run(`s-${i.toString(36)}-${(i * 7919).toString(16)}`, 1000 + (i % 97), s, s + 600);
      }
      const au = db.prepare('INSERT INTO audit_log VALUES (?, ?, ?, ?)');
      for (let i = 0; i < counts.audit_log; i++) {
        // Row 3 carries a +08:00 offset: init must report it (tierdb keeps such rows hot).
        const iso = i === 3 ? '2026-06-14T20:00:00+08:00' : new Date(at('audit_log', i)).toISOString();
        au.run(`00000000-0000-4000-8000-${i.toString().padStart(12, '0')}`, `user${i % 13}`, i % 2 ? 'login' : 'logout', iso);
      }
      const st = db.prepare('INSERT INTO settings VALUES (?, ?)');
      for (let i = 0; i < counts.settings; i++) st.run(`key${i}`, `value ${i}`);
      const pv = db.prepare('INSERT INTO page_views VALUES (?, ?, ?)');
      for (let i = 0; i < counts.page_views; i++) pv.run(`/p/${i % 50}`, Math.floor(at('page_views', i) / 1000), 20 + (i % 300));
      const or = db.prepare('INSERT INTO orders (customer, total, created_at) VALUES (?, ?, ?)');
      // Inserted oldest first, as an app would: ids 1..n follow time.
      for (let i = counts.orders - 1; i >= 0; i--) or.run(`c${i % 40}`, (i % 500) + 0.99, Math.floor(at('orders', i) / 1000));
    })();
  } finally {
    db.close();
  }
  return counts;
}
