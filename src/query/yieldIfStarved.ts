/**
 * Fairness for answers that need no I/O. A query answered from SQLite alone
 * (the hot-only fast path, bridge.sql on SQLite, a plan with no cold file)
 * completes on microtasks only: an app awaiting such queries in a loop would
 * never let timers, sockets or the archiver's DuckDB callbacks run. Each such
 * answer calls this first; it costs a clock read while the event loop turns,
 * and one `setImmediate` turn when it has not turned for `STARVED_MS`.
 */
const STARVED_MS = 10;

let turnedAt = performance.now();
let watching = false;

function watch(): void {
  watching = true;
  setImmediate(() => {
    watching = false;
    turnedAt = performance.now();
  });
}

/** Undefined (nothing to await) unless the event loop has not turned for STARVED_MS. */
export function yieldIfStarved(): Promise<void> | undefined {
  if (!watching) watch();
  if (performance.now() - turnedAt < STARVED_MS) return undefined;
  return new Promise((resolve) => {
    setImmediate(() => {
      turnedAt = performance.now();
      resolve();
    });
  });
}
