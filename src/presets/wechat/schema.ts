/**
 * The demo application's schema (drizzle). `drizzle-kit generate` turns it
 * into the SQL in `migrations/app`. An application adopting tierdb brings its
 * own schema instead; tierdb then reads columns from SQLite itself.
 */
import { sql } from 'drizzle-orm';
import { blob, index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { int64 } from '../../hot/int64.js';

export const messages = sqliteTable(
  'messages',
  {
    msgId: int64('msg_id').primaryKey(),
    fromUsername: text('from_username').notNull(),
    toUsername: text('to_username').notNull(),
    content: text('content'),
    createTime: integer('create_time').notNull(),
    msgType: integer('msg_type').notNull(),
    isChatroomMsg: integer('is_chatroom_msg').notNull().default(0),
    chatroom: text('chatroom'),
    chatroomSender: text('chatroom_sender'),
    desc: text('desc'),
    source: text('source'),
    guid: text('guid'),
    notifyType: integer('notify_type'),
    extraFields: text('extra_fields'),
  },
  (t) => [
    index('messages_create_time_idx').on(t.createTime),
    index('messages_chatroom_time_idx').on(t.chatroom, t.createTime),
  ],
);

export const taskQueue = sqliteTable(
  'task_queue',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    taskType: text('task_type').notNull(),
    status: text('status').notNull().default('pending'),
    priority: integer('priority').notNull().default(0),
    msgId: int64('msg_id'),
    payload: text('payload'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at'),
  },
  (t) => [index('task_queue_created_at_idx').on(t.createdAt), index('task_queue_status_idx').on(t.status, t.createdAt)],
);

export const ruleLogs = sqliteTable(
  'rule_logs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ruleId: integer('rule_id').notNull(),
    ruleName: text('rule_name').notNull(),
    msgId: int64('msg_id'),
    matched: integer('matched').notNull(),
    action: text('action'),
    durationMs: real('duration_ms'),
    detail: text('detail'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('rule_logs_created_at_idx').on(t.createdAt)],
);

/** Audit times are ISO-8601 text, to show a registry entry with `timeUnit: 'iso'`. */
export const auditLogs = sqliteTable(
  'audit_logs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    target: text('target'),
    detail: text('detail'),
    ip: text('ip'),
    createdAt: text('created_at').notNull(),
  },
  (t) => [index('audit_logs_created_at_idx').on(t.createdAt)],
);

/** Signature times are unix milliseconds; `phash` is a BLOB. */
export const mediaSignatures = sqliteTable(
  'media_signatures',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    msgId: int64('msg_id'),
    mediaType: text('media_type').notNull(),
    sha256: text('sha256').notNull(),
    phash: blob('phash', { mode: 'buffer' }),
    sizeBytes: integer('size_bytes'),
    width: integer('width'),
    height: integer('height'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('media_signatures_created_at_idx').on(t.createdAt), index('media_signatures_sha256_idx').on(t.sha256)],
);

export const appTables = { messages, taskQueue, ruleLogs, auditLogs, mediaSignatures };
void sql;
