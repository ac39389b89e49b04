/** After the close: each follower's day (copies, fills, rejects, skips, approvals nobody answered) to the admins. */
import { istDateTime, istDayStart } from '../domain/time.js';
import type { EngineEvents, FollowerDay } from '../engine/events.js';
import type { Clock } from '../infra/clock.js';
import type { Store } from '../store/index.js';

export interface DailySummaryDeps {
  store: Store;
  events: EngineEvents;
  followerIds: string[];
  /** Whether the IST day of an instant is a trading day (no summary on weekends and holidays); absent: every day. */
  tradingDay?: (ms: number) => boolean;
}

export function followerDays(store: Store, followerIds: string[], now: number): FollowerDay[] {
  const since = istDayStart(now);
  return followerIds.map((id) => {
    const copies = store.copies.since(id, since);
    const count = (s: string) => copies.filter((c) => c.state === s).length;
    return { followerId: id, copies: copies.length, filled: count('filled'), rejected: count('rejected'), failed: count('failed'), skipped: count('skipped'), expired: count('expired') };
  });
}

/** The day's summary to the admins; null (nothing sent) on a weekend or a holiday. */
export async function runDailySummary(d: DailySummaryDeps, clock: Clock): Promise<FollowerDay[] | null> {
  const now = clock.now();
  if (d.tradingDay && !d.tradingDay(now)) return null;
  const followers = followerDays(d.store, d.followerIds, now);
  d.events.emit({ type: 'daily_summary', day: istDateTime(now).slice(0, 10), followers });
  return followers;
}
