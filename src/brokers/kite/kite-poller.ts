/**
 * Kite's stream may not announce a placement at all, so a leader's order book is also polled.
 * `OrderView` remembers the last (status, filled, quantity, price, trigger) seen per order, from
 * the stream or a poll, so a poll emits only what changed; `BookPoller` runs the poll loop
 * (one request at a time, no overlap, no timers left after `stop()`).
 */
import type { BrokerOrder } from '../../domain/order.js';
import type { Logger } from '../../infra/logger.js';
import { SessionExpired } from '../port.js';

const fingerprint = (o: BrokerOrder): string => `${o.status}|${o.filledQty}|${o.quantity}|${o.price}|${o.triggerPrice}`;

export class OrderView {
  private readonly last = new Map<string, { fp: string; at: number | null }>();

  /**
   * Record `o` as seen; true when it differs from what was seen before (or is new). A snapshot
   * stamped earlier than the newest seen (a poll answered with the book as it was before a
   * modification the stream already delivered) is stale: never emitted, never remembered.
   */
  note(o: BrokerOrder): boolean {
    const fp = fingerprint(o);
    const seen = this.last.get(o.orderId);
    if (seen?.fp === fp) return false;
    if (seen && seen.at !== null && o.exchangeTime !== null && o.exchangeTime < seen.at) return false;
    this.last.set(o.orderId, { fp, at: Math.max(seen?.at ?? 0, o.exchangeTime ?? 0) || null });
    return true;
  }
}

export interface BookPollerOptions {
  intervalMs: number;
  fetch: () => Promise<BrokerOrder[]>;
  view: OrderView;
  emit: (o: BrokerOrder) => void;
  onSessionExpired: (e: SessionExpired) => void;
  logger: Logger;
  accountId: string;
}

export class BookPoller {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private failures = 0;

  constructor(private readonly o: BookPollerOptions) {}

  start(): void {
    if (this.running || this.o.intervalMs <= 0) return;
    this.running = true;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.tick();
    }, ms);
  }

  private async tick(): Promise<void> {
    try {
      const book = await this.o.fetch();
      if (!this.running) return;
      if (this.failures > 0) this.o.logger.info({ account: this.o.accountId, after: this.failures }, 'kite book poll recovered');
      this.failures = 0;
      for (const order of book) {
        if (!this.o.view.note(order)) continue;
        try {
          this.o.emit(order);
        } catch (err) {
          this.o.logger.error({ account: this.o.accountId, orderId: order.orderId, err: String(err) }, 'kite book poll: a listener failed');
        }
      }
    } catch (e) {
      if (!this.running) return;
      if (e instanceof SessionExpired) {
        this.stop();
        this.o.onSessionExpired(e);
        return;
      }
      this.failures += 1;
      // Log the first failure and then every 30th, so an outage does not flood the log.
      if (this.failures === 1 || this.failures % 30 === 0) {
        this.o.logger.warn({ account: this.o.accountId, failures: this.failures, err: e instanceof Error ? e.message : String(e) }, 'kite book poll failed');
      }
    }
    this.schedule(this.o.intervalMs);
  }
}
