/**
 * The shape of one incoming WeChat-style message, validated with zod.
 * Unknown fields are kept in `extra_fields` (JSON text), never dropped.
 */
import { z } from 'zod';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** 2000-01-01 .. 2100-01-01 in unix seconds: anything outside is a unit mistake. */
const MIN_UNIX_S = 946_684_800;
const MAX_UNIX_S = 4_102_444_800;

/** An INTEGER that must survive beyond 2^53: bigint, safe number or decimal string. */
const int64 = z.union([z.bigint(), z.number(), z.string()]).transform((v, ctx) => {
  let n: bigint | undefined;
  if (typeof v === 'bigint') n = v;
  else if (typeof v === 'number') n = Number.isSafeInteger(v) ? BigInt(v) : undefined;
  else if (/^-?\d{1,19}$/.test(v.trim())) n = BigInt(v.trim());
  if (n === undefined || n < INT64_MIN || n > INT64_MAX) {
    ctx.addIssue({
      code: 'custom',
      message:
        typeof v === 'number' && Number.isInteger(v)
          ? `expected a 64-bit integer, got ${v} which is beyond 2^53 and already lost precision (pass it as a string or bigint)`
          : `expected a 64-bit integer, got ${JSON.stringify(typeof v === 'bigint' ? v.toString() : v)}`,
    });
    return z.NEVER;
  }
  return n;
});

const int = z.union([z.number().int(), z.string().regex(/^-?\d+$/).transform(Number)]);
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
    .union([z.string(), z.number()])
    .nullish()
    .transform((v) => (v === null || v === undefined ? null : String(v))),
  guid: optText,
  notify_type: optInt,
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

/** Validates one row; returns the values in MESSAGE_COLUMNS order, or the reason it is invalid. */
export function normalizeMessage(input: unknown): { ok: true; values: MessageValues } | { ok: false; reason: string } {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, reason: `expected an object, got ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input}` };
  }
  const result = messageRowSchema.safeParse(input);
  if (!result.success) {
    const reason = result.error.issues
      .map((i) => {
        const field = i.path.join('.');
        const missing = field !== '' && (input as Record<string, unknown>)[String(i.path[0])] === undefined;
        return `${field || '(row)'}: ${missing ? 'is required' : i.message}`;
      })
      .join('; ');
    return { ok: false, reason };
  }
  const row = result.data;
  let extra: Record<string, unknown> | undefined;
  if (typeof row.extra_fields === 'string') {
    try {
      const parsed: unknown = JSON.parse(row.extra_fields);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      extra = { ...(parsed as Record<string, unknown>) };
    } catch {
      return { ok: false, reason: 'extra_fields: expected a JSON object' };
    }
  } else if (row.extra_fields) extra = { ...row.extra_fields };
  for (const key of Object.keys(row)) {
    if (!KNOWN.has(key)) (extra ??= {})[key] = (row as Record<string, unknown>)[key];
  }
  return {
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
      extra === undefined ? null : JSON.stringify(extra, (_k, val: unknown) => (typeof val === 'bigint' ? val.toString() : val)),
    ],
  };
}
