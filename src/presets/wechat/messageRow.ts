/**
 * The shape of one incoming WeChat-style message, validated with zod.
 * Unknown fields are kept in `extra_fields` (JSON text), never dropped.
 *
 * `messageRowSchema` is the one definition of what a valid row is. Because
 * ingest runs it on every row, `normalizeMessage` first tries a hand-written
 * fast path that accepts only the plain, already-typed shape (what an app or
 * a JSONL file usually sends) and produces exactly what the schema would;
 * anything else — coercions, and every invalid row with its reason — goes
 * through the zod schema. A test checks the two agree.
 */
import { z } from 'zod';
import { INT64_MAX, INT64_MIN } from '../../hot/int64.js';

/** 2000-01-01 .. 2100-01-01 in unix seconds: anything outside is a unit mistake. */
const MIN_UNIX_S = 946_684_800;
const MAX_UNIX_S = 4_102_444_800;
const INT64_TEXT = /^-?\d{1,19}$/;

const show = (v: unknown): string => (typeof v === 'bigint' ? v.toString() : JSON.stringify(v) ?? String(v));

/** An INTEGER that must survive beyond 2^53: bigint, safe number or decimal string. */
const int64 = z.union([z.bigint(), z.number(), z.string()]).transform((v, ctx) => {
  let n: bigint | undefined;
  if (typeof v === 'bigint') n = v;
  else if (typeof v === 'number') n = Number.isSafeInteger(v) ? BigInt(v) : undefined;
  else if (INT64_TEXT.test(v.trim())) n = BigInt(v.trim());
  if (n === undefined || n < INT64_MIN || n > INT64_MAX) {
    ctx.addIssue({
      code: 'custom',
      message:
        typeof v === 'number' && Number.isInteger(v)
          ? `expected a 64-bit integer, got ${v} which is beyond 2^53 and already lost precision (pass it as a string or bigint)`
          : `expected a 64-bit integer, got ${show(v)}`,
    });
    return z.NEVER;
  }
  return n;
});

/** A JS-safe integer: safe number, bigint or decimal string within ±(2^53 - 1). */
const int = z.union([z.number(), z.bigint(), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'string' ? (/^-?\d+$/.test(v.trim()) ? Number(v.trim()) : NaN) : Number(v);
  if (!Number.isSafeInteger(n) || (typeof v === 'bigint' && BigInt(n) !== v)) {
    ctx.addIssue({ code: 'custom', message: `expected a whole number within ±(2^53 - 1), got ${show(v)}` });
    return z.NEVER;
  }
  return n;
});
const optText = z.string().nullish().transform((v) => v ?? null);
const optInt = int.nullish().transform((v) => v ?? null);

const unixSeconds = int.refine((n) => n >= MIN_UNIX_S && n <= MAX_UNIX_S, {
  message: `expected unix seconds between ${MIN_UNIX_S} (2000) and ${MAX_UNIX_S} (2100); milliseconds are not accepted`,
});

export const messageRowSchema = z.looseObject({
  msg_id: int64,
  from_username: z.string().min(1),
  to_username: z.string().min(1),
  content: optText,
  create_time: unixSeconds,
  msg_type: int,
  is_chatroom_msg: z
    .union([z.boolean(), z.literal(0), z.literal(1)])
    .nullish()
    .transform((v) => (v === true || v === 1 ? 1 : 0)),
  chatroom: optText,
  chatroom_sender: optText,
  desc: optText,
  // Real data mixes XML strings and integers here; the column is TEXT.
  source: z
    .union([z.string(), z.number(), z.bigint()])
    .nullish()
    .transform((v) => (v === null || v === undefined ? null : String(v))),
  guid: optText,
  notify_type: optInt,
  // An object, or JSON text of one; merged with the row's unknown fields.
  extra_fields: z.union([z.record(z.string(), z.unknown()), z.string()]).nullish(),
});

/** The columns of `messages`, in insert order. */
export const MESSAGE_COLUMNS = [
  'msg_id',
  'from_username',
  'to_username',
  'content',
  'create_time',
  'msg_type',
  'is_chatroom_msg',
  'chatroom',
  'chatroom_sender',
  'desc',
  'source',
  'guid',
  'notify_type',
  'extra_fields',
] as const;

const KNOWN = new Set<string>(MESSAGE_COLUMNS);

export type MessageValues = (string | number | bigint | null)[];
export type NormalizedMessage = { ok: true; values: MessageValues } | { ok: false; reason: string };

const jsonReplacer = (_k: string, val: unknown): unknown => (typeof val === 'bigint' ? val.toString() : val);
const toJson = (v: unknown): string | undefined => JSON.stringify(v, jsonReplacer);

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

/**
 * The `extra_fields` JSON text: the given `extra_fields` (object or JSON text
 * of one) plus every field that is not a column. A key given both ways with
 * different values is an error rather than one value silently winning.
 * Null-prototype objects keep a `__proto__` key as data.
 */
function buildExtra(input: Record<string, unknown>, given: unknown): { ok: true; json: string | null } | { ok: false; reason: string } {
  let extra: Record<string, unknown> | undefined;
  if (typeof given === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(given);
    } catch {
      return { ok: false, reason: 'extra_fields: expected a JSON object, got text that is not JSON' };
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return { ok: false, reason: `extra_fields: expected a JSON object, got ${Array.isArray(parsed) ? 'an array' : show(parsed)}` };
    }
    extra = Object.assign(Object.create(null) as Record<string, unknown>, parsed);
  } else if (given !== null && given !== undefined) {
    extra = Object.assign(Object.create(null) as Record<string, unknown>, given);
  }
  for (const key in input) {
    if (KNOWN.has(key)) continue;
    const value = input[key];
    if (value === undefined) continue;
    if (extra === undefined) extra = Object.create(null) as Record<string, unknown>;
    else if (Object.hasOwn(extra, key) && toJson(extra[key]) !== toJson(value)) {
      return { ok: false, reason: `${key}: given both as a field and inside extra_fields, with different values` };
    }
    extra[key] = value;
  }
  if (extra === undefined) return { ok: true, json: null };
  try {
    return { ok: true, json: JSON.stringify(extra, jsonReplacer) };
  } catch (error) {
    return { ok: false, reason: `extra_fields: cannot be stored as JSON (${(error as Error).message})` };
  }
}

const optionalText = (v: unknown): boolean => v === undefined || v === null || typeof v === 'string';
const optionalSafeInt = (v: unknown): boolean => v === undefined || v === null || Number.isSafeInteger(v);

/**
 * The fast path: the plain shape only (msg_id bigint, safe number or plain
 * decimal text; other integers as numbers; texts as strings). Returns
 * undefined for anything else, which then goes through the zod schema.
 */
export function normalizeFast(row: Record<string, unknown>): NormalizedMessage | undefined {
  const rawId = row.msg_id;
  let msgId: bigint;
  if (typeof rawId === 'bigint') msgId = rawId;
  else if (typeof rawId === 'string' && INT64_TEXT.test(rawId)) msgId = BigInt(rawId);
  else if (Number.isSafeInteger(rawId)) msgId = BigInt(rawId as number);
  else return undefined;
  if (msgId < INT64_MIN || msgId > INT64_MAX) return undefined;

  const from = row.from_username;
  const to = row.to_username;
  if (typeof from !== 'string' || from.length === 0 || typeof to !== 'string' || to.length === 0) return undefined;
  const createTime = row.create_time;
  if (typeof createTime !== 'number' || !Number.isInteger(createTime) || createTime < MIN_UNIX_S || createTime > MAX_UNIX_S) return undefined;
  const msgType = row.msg_type;
  if (!Number.isSafeInteger(msgType)) return undefined;
  const chatroomFlag = row.is_chatroom_msg;
  let isChatroom: number;
  if (chatroomFlag === 1 || chatroomFlag === true) isChatroom = 1;
  else if (chatroomFlag === 0 || chatroomFlag === false || chatroomFlag === undefined || chatroomFlag === null) isChatroom = 0;
  else return undefined;
  const { content, chatroom, chatroom_sender: chatroomSender, desc, guid, notify_type: notifyType, extra_fields: extraFields } = row;
  if (!optionalText(content) || !optionalText(chatroom) || !optionalText(chatroomSender) || !optionalText(desc) || !optionalText(guid)) {
    return undefined;
  }
  if (!optionalSafeInt(notifyType)) return undefined;
  const rawSource = row.source;
  let source: string | null;
  if (rawSource === undefined || rawSource === null) source = null;
  else if (typeof rawSource === 'string') source = rawSource;
  else if (typeof rawSource === 'number' && Number.isFinite(rawSource)) source = String(rawSource);
  else return undefined;
  if (!(extraFields === undefined || extraFields === null || typeof extraFields === 'string' || isPlainObject(extraFields))) return undefined;

  let extraJson: string | null = null;
  // Cheap check for the common case: no extra fields at all.
  let hasUnknown = extraFields !== undefined && extraFields !== null;
  if (!hasUnknown) {
    for (const key in row) {
      if (!KNOWN.has(key)) {
        hasUnknown = true;
        break;
      }
    }
  }
  if (hasUnknown) {
    const extra = buildExtra(row, extraFields);
    if (!extra.ok) return extra;
    extraJson = extra.json;
  }
  return {
    ok: true,
    values: [
      msgId,
      from,
      to,
      (content as string | null | undefined) ?? null,
      createTime,
      msgType as number,
      isChatroom,
      (chatroom as string | null | undefined) ?? null,
      (chatroomSender as string | null | undefined) ?? null,
      (desc as string | null | undefined) ?? null,
      source,
      (guid as string | null | undefined) ?? null,
      (notifyType as number | null | undefined) ?? null,
      extraJson,
    ],
  };
}

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * A lone surrogate (e.g. from the JSON escape "\ud800") is not Unicode text:
 * SQLite would store U+FFFD in its place and Parquet cannot hold it either, so
 * the row is refused rather than stored altered. (extra_fields is JSON text
 * written by JSON.stringify, which escapes them, so it keeps them exactly.)
 */
function refuseLoneSurrogates(normalized: NormalizedMessage): NormalizedMessage {
  if (!normalized.ok) return normalized;
  const values = normalized.values;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'string' || (v as string & { isWellFormed(): boolean }).isWellFormed()) continue;
    const at = LONE_SURROGATE.exec(v)!.index;
    const unit = v.charCodeAt(at).toString(16).toUpperCase();
    return {
      ok: false,
      reason: `${MESSAGE_COLUMNS[i]}: holds a lone surrogate (U+${unit}) at character ${at}, which is not valid Unicode text and cannot be stored exactly`,
    };
  }
  return normalized;
}

function notAnObject(input: unknown): NormalizedMessage | undefined {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, reason: `expected an object, got ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input}` };
  }
  return undefined;
}

/** Validates one row with the zod schema only (the reference the fast path must match). */
export function normalizeMessageWithSchema(input: unknown): NormalizedMessage {
  const bad = notAnObject(input);
  if (bad) return bad;
  const result = messageRowSchema.safeParse(input);
  if (!result.success) {
    const reason = result.error.issues
      .map((i) => {
        const field = i.path.join('.');
        const given = field === '' ? 0 : (input as Record<string, unknown>)[String(i.path[0])];
        return `${field || '(row)'}: ${given === undefined ? 'is required' : given === null ? 'is required, got null' : i.message}`;
      })
      .join('; ');
    return { ok: false, reason };
  }
  const row = result.data;
  const extra = buildExtra(input as Record<string, unknown>, (input as Record<string, unknown>).extra_fields);
  if (!extra.ok) return extra;
  return refuseLoneSurrogates({
    ok: true,
    values: [
      row.msg_id,
      row.from_username,
      row.to_username,
      row.content,
      row.create_time,
      row.msg_type,
      row.is_chatroom_msg,
      row.chatroom,
      row.chatroom_sender,
      row.desc,
      row.source,
      row.guid,
      row.notify_type,
      extra.json,
    ],
  });
}

/** Validates one row; returns the values in MESSAGE_COLUMNS order, or the reason it is invalid. */
export function normalizeMessage(input: unknown): NormalizedMessage {
  const bad = notAnObject(input);
  if (bad) return bad;
  const fast = normalizeFast(input as Record<string, unknown>);
  return fast ? refuseLoneSurrogates(fast) : normalizeMessageWithSchema(input);
}
