/** Net positions per account, instrument and product, kept in memory from fills. */
import type { InstrumentRef, Position, Product } from '../domain/order.js';
import { instrumentKey } from '../domain/order.js';

const key = (i: Pick<InstrumentRef, 'segment' | 'securityId'>, product: string) => `${instrumentKey(i)}:${product}`;

export class PositionBook {
  private readonly net = new Map<string, Map<string, number>>();

  private account(accountId: string): Map<string, number> {
    let m = this.net.get(accountId);
    if (!m) {
      m = new Map();
      this.net.set(accountId, m);
    }
    return m;
  }

  get(accountId: string, i: Pick<InstrumentRef, 'segment' | 'securityId'>, product: Product): number {
    return this.net.get(accountId)?.get(key(i, product)) ?? 0;
  }

  add(accountId: string, i: Pick<InstrumentRef, 'segment' | 'securityId'>, product: Product, signedQty: number): number {
    const m = this.account(accountId);
    const k = key(i, product);
    const v = (m.get(k) ?? 0) + signedQty;
    if (v === 0) m.delete(k);
    else m.set(k, v);
    return v;
  }

  /** Replace an account's positions with the broker's view (start-up, reconciliation). */
  load(accountId: string, positions: Position[]): void {
    const m = new Map<string, number>();
    for (const p of positions) if (p.netQty !== 0) m.set(key(p.instrument, p.product), p.netQty);
    this.net.set(accountId, m);
  }

  openCount(accountId: string): number {
    return this.net.get(accountId)?.size ?? 0;
  }
}
