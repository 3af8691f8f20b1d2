import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DrainPacer } from '../src/archive/drainFile.js';

// The pacer reads performance.now(): a fake clock moves it without waiting.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['performance', 'setTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('DrainPacer', () => {
  it('sizes transactions to the lock target while others write, to the idle target once none has for a second', () => {
    const pacer = new DrainPacer(4, 40);
    // 1,000 rows in 10 ms: 100 rows per ms.
    pacer.record(1000, 10, 7);
    // The first second counts as contended: polite from the start.
    expect(pacer.contended).toBe(true);
    expect(pacer.nextRows()).toBe(400);
    vi.advanceTimersByTime(1001);
    pacer.record(1000, 10, 7);
    expect(pacer.contended).toBe(false);
    expect(pacer.nextRows()).toBe(4000);
    // Another connection committed (data_version moved): back to the lock target at once.
    pacer.record(1000, 10, 8);
    expect(pacer.contended).toBe(true);
    expect(pacer.nextRows()).toBe(400);
    vi.advanceTimersByTime(1001);
    expect(pacer.nextRows()).toBe(4000);
  });

  it('never goes below the lock target when idle, and keeps the row bounds', () => {
    const low = new DrainPacer(10, 2);
    expect(low.idleTargetMs).toBe(10);
    low.record(100, 10, 1);
    vi.advanceTimersByTime(1001);
    expect(low.nextRows()).toBe(100);
    const slow = new DrainPacer(4, 40);
    expect(slow.nextRows()).toBe(64);
    slow.record(10, 1000, 1);
    expect(slow.nextRows()).toBe(16);
    const fast = new DrainPacer(4, 40);
    fast.record(1_000_000, 1, 1);
    vi.advanceTimersByTime(1001);
    expect(fast.nextRows()).toBe(50_000);
  });

  it('pauses as long as the transaction while contended, a bare turn when idle', async () => {
    const pacer = new DrainPacer(4, 40);
    pacer.record(100, 5, 1);
    let done = false;
    const contended = pacer.pause(5).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(4);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    await contended;
    expect(done).toBe(true);
    vi.advanceTimersByTime(1001);
    pacer.record(100, 5, 1);
    done = false;
    const idle = pacer.pause(5).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(0);
    await idle;
    expect(done).toBe(true);
  });
});
