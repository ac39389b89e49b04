/**
 * A token bucket: `ratePerSecond` tokens refill continuously up to `burst`. `take()` resolves when a
 * token is available, in FIFO order. `pause(ms)` empties the bucket for a while (after a 429).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private blockedUntil = 0;
  private readonly waiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst = Math.max(1, Math.floor(ratePerSecond)),
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = this.burst;
    this.last = this.now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
    this.last = t;
  }

  /** Whether a token is free right now (nothing waiting, not paused); takes nothing. */
  ready(): boolean {
    if (this.waiters.length > 0 || this.now() < this.blockedUntil) return false;
    this.refill();
    return this.tokens >= 1;
  }

  /** Take a token now if one is free (no waiting). */
  tryTake(): boolean {
    if (!this.ready()) return false;
    this.tokens -= 1;
    return true;
  }

  take(): Promise<void> {
    if (this.tryTake()) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.schedule();
    });
  }

  pause(ms: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, this.now() + ms);
    // Refill first, so tokens from before the pause are dropped and only those earned during it count.
    this.refill();
    this.tokens = 0;
    this.schedule();
  }

  get queued(): number {
    return this.waiters.length;
  }

  private schedule(): void {
    if (this.timer || this.waiters.length === 0) return;
    const t = this.now();
    this.refill();
    const waitBlocked = Math.max(0, this.blockedUntil - t);
    const waitToken = this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.ratePerSecond) * 1000;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.drain();
    }, Math.max(waitBlocked, waitToken));
  }

  private drain(): void {
    if (this.now() >= this.blockedUntil) {
      this.refill();
      while (this.waiters.length > 0 && this.tokens >= 1) {
        this.tokens -= 1;
        this.waiters.shift()?.();
      }
    }
    this.schedule();
  }

  /** Release every waiter (shutdown). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const w of this.waiters.splice(0)) w();
  }
}
