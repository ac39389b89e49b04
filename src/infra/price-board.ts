/**
 * Last traded prices seen by the process (leader fills, paper fills), keyed by instrument.
 * In memory only: a reference for sizing checks and the price the paper broker fills at.
 */
import type { InstrumentRef } from '../domain/order.js';
import { instrumentKey } from '../domain/order.js';

type PriceListener = (key: string, price: number) => void;

export class PriceBoard {
  private readonly prices = new Map<string, number>();
  private readonly listeners = new Set<PriceListener>();

  last(i: Pick<InstrumentRef, 'segment' | 'securityId'>): number | null {
    return this.prices.get(instrumentKey(i)) ?? null;
  }

  publish(i: Pick<InstrumentRef, 'segment' | 'securityId'>, price: number): void {
    if (!(price > 0)) return;
    const key = instrumentKey(i);
    this.prices.set(key, price);
    for (const l of this.listeners) l(key, price);
  }

  onPrice(l: PriceListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}
