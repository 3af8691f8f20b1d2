/**
 * A separate writer process for the archive benchmark: an application
 * inserting new `messages` rows (current time) into the hot file at a fixed
 * rate, one autocommit INSERT each, with better-sqlite3 (WAL, busy_timeout
 * 5000), timing every insert.
 *
 * Started with fork() (IPC). Messages from the parent:
 *   { phase: string }  start (or switch to) a phase; latencies are kept per phase
 *   { stop: true }     stop, reply { phases: { [phase]: number[] (ms) }, errors }, exit
 *
 * argv: <hot file> [rows per second = 200]
 */
import Database from 'better-sqlite3';

const [file, rateArg] = process.argv.slice(2);
if (!file || !process.send) {
  process.stderr.write('usage: fork bench/archive-writer.ts <hot file> [rows/s] (needs an IPC channel)\n');
  process.exit(2);
}
const rate = Number(rateArg ?? 200);
const intervalMs = 1000 / rate;

const db = new Database(file);
db.pragma('busy_timeout = 5000');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
const insert = db.prepare(
  `INSERT INTO messages (msg_id, from_username, to_username, content, create_time, msg_type, is_chatroom_msg, chatroom, chatroom_sender)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
);

/** New msg_ids far above the demo's (7e18...) so they never collide. */
let nextId = 9_000_000_000_000_000_000n + BigInt(process.pid) * 1_000_000_000n;
const phases: Record<string, number[]> = {};
const errors: string[] = [];
let phase: string | undefined;
let timer: NodeJS.Timeout | undefined;
let due = 0;

function tick(): void {
  if (phase === undefined) return;
  const samples = (phases[phase] ??= []);
  // Catch up on inserts that fell due while the last one was blocked (open loop at `rate`).
  const now = performance.now();
  while (due <= now) {
    const t0 = performance.now();
    try {
      insert.run(
        nextId++,
        'wxid_benchwriter0001',
        '12345678901@chatroom',
        'bench writer message: the app keeps writing while the archiver runs',
        Math.floor(Date.now() / 1000),
        1,
        1,
        '12345678901@chatroom',
        'wxid_benchwriter0001',
      );
      samples.push(performance.now() - t0);
    } catch (error) {
      samples.push(performance.now() - t0);
      if (errors.length < 20) errors.push((error as Error).message);
    }
    due += intervalMs;
  }
  timer = setTimeout(tick, Math.max(0, due - performance.now()));
}

process.on('message', (msg: { phase?: string; stop?: boolean }) => {
  if (msg.phase !== undefined) {
    const starting = phase === undefined;
    phase = msg.phase;
    if (starting) {
      due = performance.now();
      tick();
    }
    process.send!({ started: msg.phase });
  }
  if (msg.stop) {
    phase = undefined;
    if (timer) clearTimeout(timer);
    db.close();
    process.send!({ phases, errors }, () => process.exit(0));
  }
});
process.send({ ready: true });
