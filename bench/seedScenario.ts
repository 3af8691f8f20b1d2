/**
 * The "seed" scenario: a hot file of about 144 MB whose task_queue holds
 * about 234,000 rows spread over several months (~530-byte JSON payloads),
 * plus a few rows in every other demo table, old and new. With HOT_DAYS_TASK=7
 * one archive run should leave the hot file (db + wal) under 10 MB.
 *
 * Deterministic: same options, same rows. Used by test/seedScenario.test.ts
 * (possibly scaled down) and by the archive benchmark (full size).
 */
import { existsSync, statSync } from 'node:fs';
import type Database from 'better-sqlite3';

const DAY_MS = 86_400_000;

export interface SeedScenarioOptions {
  /** task_queue rows (default 234,000). */
  taskRows?: number;
  /** Days the task rows span, ending at `now` (default 180). */
  days?: number;
  /** Characters of each task payload (default 530). */
  payloadChars?: number;
  /** Rows in each other demo table (default 24: half old, half new). */
  otherRows?: number;
  /** End of the time range, unix ms. */
  now: number;
  seed?: number;
}

export const SEED_SCENARIO_FULL = Object.freeze({ taskRows: 234_000, days: 180, payloadChars: 530, otherRows: 24 });

/** mulberry32 */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS =
  'forward reply download media ocr image chatroom contact sync webhook retry queue scheduled manual login token refresh cdn thumb aes key url event payload status done failed pending running message group member notice friend request voice video file emoji sticker link title description'.split(
    ' ',
  );
const TASK_TYPES = ['send_reply', 'download_media', 'ocr_image', 'forward_message', 'webhook', 'sync_contacts'];
const STATUSES = ['done', 'done', 'done', 'done', 'done', 'done', 'done', 'done', 'failed', 'cancelled'];

/** Rows in each table after `writeSeedScenario`. */
export type SeedCounts = Record<'task_queue' | 'messages' | 'rule_logs' | 'audit_logs' | 'media_signatures', number>;

/**
 * Writes the scenario into the (empty) demo tables of `raw`. Returns the rows per table.
 */
export function writeSeedScenario(raw: Database.Database, options: SeedScenarioOptions): SeedCounts {
  const taskRows = options.taskRows ?? SEED_SCENARIO_FULL.taskRows;
  const days = options.days ?? SEED_SCENARIO_FULL.days;
  const payloadChars = options.payloadChars ?? SEED_SCENARIO_FULL.payloadChars;
  const otherRows = options.otherRows ?? SEED_SCENARIO_FULL.otherRows;
  const next = rng(options.seed ?? 7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const startS = Math.floor((options.now - days * DAY_MS) / 1000);
  const spanS = days * 86_400;

  const insertTask = raw.prepare(
    `INSERT INTO task_queue (task_type, status, priority, msg_id, payload, attempts, last_error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const writeTasks = raw.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      // Evenly spread over the span, oldest first, with a little jitter.
      const createdAt = startS + Math.min(spanS - 1, Math.floor(((i + next()) / taskRows) * spanS));
      const parts: string[] = [];
      let len = 0;
      while (len < payloadChars - 120) {
        const w = pick(WORDS);
        parts.push(w);
        len += w.length + 1;
      }
      const head = JSON.stringify({
        to: `wxid_${Math.floor(next() * 36 ** 8).toString(36).padStart(8, '0')}`,
        msg_id: (7_000_000_000_000_000_000n + BigInt(i) * 1_048_576n).toString(),
        cdn: `https://wxapp.tc.qq.com/${Math.floor(next() * 36 ** 10).toString(36)}`,
        text: '',
      });
      const payload = (head.slice(0, -2) + parts.join(' ')).slice(0, payloadChars - 2) + '"}';
      const status = pick(STATUSES);
      insertTask.run(
        pick(TASK_TYPES),
        status,
        Math.floor(next() * 10),
        7_000_000_000_000_000_000n + BigInt(i) * 1_048_576n,
        payload,
        status === 'failed' ? 3 : 1,
        status === 'failed' ? 'timeout after 30s' : null,
        createdAt,
        createdAt + Math.floor(next() * 600),
      );
    }
  });
  for (let i = 0; i < taskRows; i += 20_000) writeTasks(i, Math.min(taskRows, i + 20_000));

  // A few rows in every other table: half 90+ days old, half within the last day.
  const timeOf = (k: number): number => (k % 2 === 0 ? options.now - (90 + k) * DAY_MS : options.now - (k + 1) * 60_000);
  const insertMessage = raw.prepare(
    `INSERT INTO messages (msg_id, from_username, to_username, content, create_time, msg_type, is_chatroom_msg) VALUES (?, ?, ?, ?, ?, 1, 0)`,
  );
  const insertRule = raw.prepare(`INSERT INTO rule_logs (rule_id, rule_name, msg_id, matched, action, duration_ms, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  const insertAudit = raw.prepare(`INSERT INTO audit_logs (actor, action, target, detail, ip, created_at) VALUES (?, ?, ?, ?, ?, ?)`);
  const insertMedia = raw.prepare(
    `INSERT INTO media_signatures (msg_id, media_type, sha256, phash, size_bytes, width, height, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  raw.transaction(() => {
    for (let k = 0; k < otherRows; k++) {
      const t = timeOf(k);
      const msgId = 8_000_000_000_000_000_000n + BigInt(k);
      insertMessage.run(msgId, 'wxid_seedpeer0001', 'wxid_seedself0001', `seed message ${k}`, Math.floor(t / 1000));
      insertRule.run(k % 5, `rule-${k % 5}`, msgId, k % 3 === 0 ? 1 : 0, k % 3 === 0 ? 'reply' : null, 1.5, null, Math.floor(t / 1000));
      insertAudit.run('admin', 'update_rule', `rule:${k % 5}`, '{"ok":true}', '10.0.0.1', new Date(t).toISOString());
      insertMedia.run(msgId, 'image', 'ab'.repeat(32), Buffer.from([k, 1, 2, 3, 4, 5, 6, 7]), 12_345, 640, 480, t);
    }
  })();
  return { task_queue: taskRows, messages: otherRows, rule_logs: otherRows, audit_logs: otherRows, media_signatures: otherRows };
}

/** Env for the scenario: tasks stay 7 days, every other table 1 day (so its old rows move too). */
export const SEED_SCENARIO_ENV = Object.freeze({ HOT_DAYS_TASK: '7', HOT_DAYS_LOG: '1', HOT_DAYS_SIGN: '1', HOT_DAYS_MESSAGES: '1' });

/** Bytes of the hot file and its WAL on disk. */
export function hotFileBytes(file: string): number {
  let total = 0;
  for (const f of [file, `${file}-wal`]) if (existsSync(f)) total += statSync(f).size;
  return total;
}
