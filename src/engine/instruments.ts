/**
 * Instrument lookups for the hot path: each broker's master is held in memory (loaded from the
 * store in the background) and leader instruments are mapped onto each follower's broker through
 * the exchange token, refusing — never guessing — when the listings disagree.
 */
import type { Instrument } from '../domain/instrument.js';
import { isDerivative, mappingMismatch } from '../domain/instrument.js';
import type { InstrumentRef } from '../domain/order.js';
import { instrumentKey } from '../domain/order.js';
import type { Store } from '../store/index.js';

export type Resolution = { ok: true; instrument: Instrument } | { ok: false; reason: string };

export class InstrumentResolver {
  private readonly masters = new Map<string, Map<string, Instrument>>();

  constructor(private readonly store: Store | null) {}

  /** (Re)load a broker's master from the store into memory. */
  load(broker: string): number {
    if (!this.store) return 0;
    const m = new Map<string, Instrument>();
    for (const i of this.store.instruments.all(broker)) m.set(instrumentKey(i), i);
    this.masters.set(broker, m);
    return m.size;
  }

  /** Register instruments directly (the simulated leader's universe). */
  register(broker: string, list: Instrument[]): void {
    const m = this.masters.get(broker) ?? new Map<string, Instrument>();
    for (const i of list) m.set(instrumentKey(i), i);
    this.masters.set(broker, m);
  }

  size(broker: string): number {
    return this.masters.get(broker)?.size ?? 0;
  }

  lookup(broker: string, ref: Pick<InstrumentRef, 'segment' | 'securityId'>): Instrument | undefined {
    return this.masters.get(broker)?.get(instrumentKey(ref));
  }

  /** An equity listing nobody loaded: lot 1 is the exchange rule, so it is safe to assume. */
  private equityFallback(ref: InstrumentRef): Instrument {
    return { ...ref, name: ref.symbol, lotSize: 1, tickSize: 0.05, expiry: null, strike: null, optionType: null, freezeQty: null };
  }

  /**
   * The follower broker's instrument for the leader's `ref`. `followerBroker` is the master to
   * trade from (a paper follower trades the leader's master).
   */
  resolve(leaderBroker: string, followerBroker: string, ref: InstrumentRef): Resolution {
    const leader = this.lookup(leaderBroker, ref);
    if (leaderBroker === followerBroker) {
      if (leader) return { ok: true, instrument: leader };
      if (!isDerivative(ref.segment)) return { ok: true, instrument: this.equityFallback(ref) };
      return { ok: false, reason: `${ref.symbol} (${ref.segment} ${ref.securityId}) is not in the ${leaderBroker} instrument master: lot size unknown` };
    }
    const follower = this.lookup(followerBroker, ref);
    if (!follower) {
      if (this.size(followerBroker) === 0 && !isDerivative(ref.segment)) return { ok: true, instrument: this.equityFallback(ref) };
      return { ok: false, reason: `${ref.symbol} (${ref.segment} ${ref.securityId}) has no match in the ${followerBroker} instrument master` };
    }
    if (leader) {
      const why = mappingMismatch(leader, follower);
      if (why) return { ok: false, reason: `${ref.symbol} does not map to ${followerBroker} ${follower.symbol}: ${why}` };
    } else if (isDerivative(ref.segment)) {
      return { ok: false, reason: `${ref.symbol} is not in the ${leaderBroker} instrument master, so its ${followerBroker} match cannot be checked` };
    }
    return { ok: true, instrument: follower };
  }
}
