import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TokenBucket } from '../../src/infra/rate-limiter.js';

/**
 * Deterministic time: vitest fake timers drive both setTimeout and Date.now, and the bucket reads
 * its clock through the injected `now`, so refills and waits are exact.
 */
beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

const now = () => Date.now();

/** How many tokens can be taken right now without waiting. */
function drain(b: TokenBucket): number {
  let n = 0;
  while (b.tryTake()) n++;
  return n;
}

/** Start take() calls and record when each resolves (ms after start) and in which order. */
function takeMany(b: TokenBucket, n: number): { order: number[]; at: number[] } {
  const t0 = Date.now();
  const order: number[] = [];
  const at: number[] = [];
  for (let i = 0; i < n; i++) {
    void b.take().then(() => {
      order.push(i);
      at[i] = Date.now() - t0;
    });
  }
  return { order, at };
}

describe('TokenBucket: burst then rate', () => {
  it.each([
    { rate: 10, burst: 10 },
    { rate: 10, burst: 3 },
    { rate: 2, burst: 5 },
    { rate: 0.5, burst: 1 },
  ])('rate $rate/s burst $burst: a burst of $burst, then nothing', ({ rate, burst }) => {
    const b = new TokenBucket(rate, burst, now);
    expect(drain(b)).toBe(burst);
    expect(b.tryTake()).toBe(false);
  });

  it.each([
    { rate: 10, expectedBurst: 10 },
    { rate: 2.7, expectedBurst: 2 },
    { rate: 0.5, expectedBurst: 1 },
  ])('default burst for rate $rate is $expectedBurst', ({ rate, expectedBurst }) => {
    const b = new TokenBucket(rate, undefined, now);
    expect(drain(b)).toBe(expectedBurst);
  });

  it.each([
    { rate: 2, burst: 5, elapsed: 499, tokens: 0 },
    { rate: 2, burst: 5, elapsed: 500, tokens: 1 },
    { rate: 2, burst: 5, elapsed: 1500, tokens: 3 },
    { rate: 2, burst: 5, elapsed: 60_000, tokens: 5 }, // capped at burst
    { rate: 10, burst: 10, elapsed: 250, tokens: 2 },
    { rate: 0.5, burst: 1, elapsed: 1999, tokens: 0 },
    { rate: 0.5, burst: 1, elapsed: 2000, tokens: 1 },
  ])('rate $rate/s: $elapsed ms after emptying, $tokens token(s)', ({ rate, burst, elapsed, tokens }) => {
    const b = new TokenBucket(rate, burst, now);
    drain(b);
    vi.advanceTimersByTime(elapsed);
    expect(drain(b)).toBe(tokens);
  });

  it('fractional refills accumulate across calls', () => {
    const b = new TokenBucket(4, 4, now); // one token per 250 ms
    drain(b);
    vi.advanceTimersByTime(100);
    expect(b.tryTake()).toBe(false); // 0.4 token
    vi.advanceTimersByTime(100);
    expect(b.tryTake()).toBe(false); // 0.8 token
    vi.advanceTimersByTime(50);
    expect(b.tryTake()).toBe(true); // 1.0 token
    expect(b.tryTake()).toBe(false);
  });

  it('sustained throughput matches the rate', async () => {
    const b = new TokenBucket(10, 5, now);
    const { at } = takeMany(b, 25);
    await vi.advanceTimersByTimeAsync(2000);
    expect(at).toHaveLength(25);
    // 5 at once, then one every 100 ms
    expect(at.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    for (let i = 5; i < 25; i++) expect(at[i]).toBe((i - 4) * 100);
  });
});

describe('TokenBucket: take()', () => {
  it('resolves at once while tokens last', async () => {
    const b = new TokenBucket(1, 2, now);
    const { order } = takeMany(b, 2);
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual([0, 1]);
    expect(b.queued).toBe(0);
  });

  it('waits for the refill, not longer', async () => {
    const b = new TokenBucket(2, 1, now);
    drain(b);
    const { at } = takeMany(b, 1);
    expect(b.queued).toBe(1);
    await vi.advanceTimersByTimeAsync(499);
    expect(at[0]).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(at[0]).toBe(500);
    expect(b.queued).toBe(0);
  });

  it('serves waiters in FIFO order', async () => {
    const b = new TokenBucket(5, 1, now);
    drain(b);
    const { order, at } = takeMany(b, 6);
    await vi.advanceTimersByTimeAsync(1500);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(at).toEqual([200, 400, 600, 800, 1000, 1200]);
  });

  it('tryTake does not jump the queue', async () => {
    const b = new TokenBucket(1, 1, now);
    drain(b);
    const { at } = takeMany(b, 1);
    vi.advanceTimersByTime(999);
    expect(b.tryTake()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(at[0]).toBe(1000);
    expect(b.tryTake()).toBe(false);
  });

  it('close() releases every waiter at once', async () => {
    const b = new TokenBucket(1, 1, now);
    drain(b);
    const { order } = takeMany(b, 3);
    expect(b.queued).toBe(3);
    b.close();
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual([0, 1, 2]);
    expect(b.queued).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('TokenBucket: pause()', () => {
  it('empties the bucket and blocks tryTake until the pause ends', () => {
    const b = new TokenBucket(10, 10, now);
    b.pause(1000);
    expect(b.tryTake()).toBe(false);
    vi.advanceTimersByTime(999);
    expect(b.tryTake()).toBe(false); // refilled tokens are still blocked
    vi.advanceTimersByTime(1);
    expect(b.tryTake()).toBe(true);
  });

  it('holds waiters until the pause ends, then serves them at the rate', async () => {
    const b = new TokenBucket(10, 1, now);
    drain(b);
    const { at } = takeMany(b, 3);
    b.pause(2000);
    await vi.advanceTimersByTimeAsync(1999);
    expect(at.filter((x) => x !== undefined)).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(at[0]).toBeGreaterThanOrEqual(2000);
    expect(at[0]).toBeLessThanOrEqual(2100);
    expect(at[1]).toBeGreaterThan(at[0] as number);
    expect(at[2]).toBeGreaterThan(at[1] as number);
    expect((at[2] as number) - (at[0] as number)).toBeGreaterThanOrEqual(200); // paced at 10/s after the burst of 1
  });

  it('a shorter pause does not shorten a longer one', () => {
    const b = new TokenBucket(10, 10, now);
    b.pause(2000);
    b.pause(500);
    vi.advanceTimersByTime(1000);
    expect(b.tryTake()).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(b.tryTake()).toBe(true);
  });

  it.each([
    { idleMs: 0, pauseMs: 1000 },
    { idleMs: 10_000, pauseMs: 1000 },
    { idleMs: 60_000, pauseMs: 500 },
  ])('after idling $idleMs ms, a $pauseMs ms pause leaves at most the tokens refilled during the pause', ({ idleMs, pauseMs }) => {
    // rate 1/s, burst 5: a full bucket at the time of a 429 must not be handed out again right after the pause.
    const b = new TokenBucket(1, 5, now);
    drain(b);
    vi.advanceTimersByTime(idleMs);
    b.pause(pauseMs);
    vi.advanceTimersByTime(pauseMs);
    const available = drain(b);
    expect(available).toBeLessThanOrEqual(Math.max(1, Math.ceil(pauseMs / 1000)));
  });

  it.each([{ idleMs: 0 }, { idleMs: 10_000 }])('after idling $idleMs ms, waiters queued in a pause are paced, not released as a burst', async ({ idleMs }) => {
    const b = new TokenBucket(1, 5, now);
    drain(b);
    vi.advanceTimersByTime(idleMs);
    b.pause(1000);
    const { at } = takeMany(b, 5);
    await vi.advanceTimersByTimeAsync(1001);
    // At most one token can have refilled during a 1 s pause at 1/s.
    expect(at.filter((x) => x !== undefined).length).toBeLessThanOrEqual(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(at.filter((x) => x !== undefined)).toHaveLength(5);
  });
});

describe('TokenBucket: default clock (real timers, generous bounds)', () => {
  it('a waiter is served after roughly 1/rate seconds', async () => {
    vi.useRealTimers();
    const b = new TokenBucket(20, 1); // one token per 50 ms
    expect(b.tryTake()).toBe(true);
    const t0 = performance.now();
    await b.take();
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(40);
    expect(waited).toBeLessThan(1000);
    b.close();
  });
});
