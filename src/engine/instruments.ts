/**
 * Instrument lookups for the hot path: a broker's master stays in SQLite (over 200k rows: holding
 * it all would cost ~80 MB and seconds at start-up); contracts are read by primary key with a
 * prepared statement and kept in a bounded cache of those recently used. Leader instruments are
 * mapped onto each follower's broker through the exchange token, refusing — never guessing — when
 * the listings disagree.
 */
import type { Instrument } from '../domain/instrument.js';
import { isDerivative, mappingMismatch, sameEquitySymbol } from '../domain/instrument.js';
import type { InstrumentRef } from '../domain/order.js';
import { instrumentKey } from '../domain/order.js';
import type { Store } from '../store/index.js';

export type Resolution = { ok: true; instrument: Instrument } | { ok: false; reason: string };

export class InstrumentResolver {
  /** Instruments registered in memory (the simulated leader's universe). */
  private readonly registered = new Map<string, Map<string, Instrument>>();
  /** Recently used contracts per broker (hits and misses), bounded; the master itself stays in SQLite. */
  private readonly cache = new Map<string, Instrument | null>();
  private readonly counts = new Map<string, number>();
  private static readonly CACHE_MAX = 5000;

  constructor(private readonly store: Store | null) {}

  /** After a broker's master was (re)loaded into the store: forget cached look-ups, recount. */
  load(broker: string): number {
    if (!this.store) return 0;
    for (const k of this.cache.keys()) if (k.startsWith(`${broker}|`)) this.cache.delete(k);
    const n = this.store.instruments.count(broker);
    this.counts.set(broker, n);
    return n;
  }

  /** Register instruments directly (the simulated leader's universe). */
  register(broker: string, list: Instrument[]): void {
    const m = this.registered.get(broker) ?? new Map<string, Instrument>();
    for (const i of list) m.set(instrumentKey(i), i);
    this.registered.set(broker, m);
  }

  size(broker: string): number {
    return this.registered.get(broker)?.size ?? this.counts.get(broker) ?? 0;
  }

  lookup(broker: string, ref: Pick<InstrumentRef, 'segment' | 'securityId'>): Instrument | undefined {
    const mem = this.registered.get(broker);
    if (mem) return mem.get(instrumentKey(ref));
    if (!this.store || !this.counts.get(broker)) return undefined;
    const key = `${broker}|${instrumentKey(ref)}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      // Refresh its place: the least recently used entry is the first to go.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit ?? undefined;
    }
    const found = this.store.instruments.get(broker, ref.segment, ref.securityId) ?? null;
    this.cache.set(key, found);
    if (this.cache.size > InstrumentResolver.CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    return found ?? undefined;
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
    } else if (!sameEquitySymbol(ref.symbol, follower.symbol)) {
      // No leader listing to compare: the leader order's own symbol is what the token must be.
      return { ok: false, reason: `${ref.symbol} does not map to ${followerBroker} ${follower.symbol}: trading symbol differs (${ref.symbol} vs ${follower.symbol})` };
    }
    return { ok: true, instrument: follower };
  }
}
