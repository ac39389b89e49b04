/**
 * Each follower's daily loss limit (issue 17, FOLLOWER_<ID>_MAX_DAILY_LOSS_INR / _ON_MAX_LOSS).
 * First version: the interface only (the decision follows).
 */

export interface LossStatus {
  pnlInr: number | null;
  limitInr: number;
  headroomInr: number | null;
  stopped: boolean;
  markAgeMs: number | null;
  why: string | null;
}

export class LossGuard {
  /** Why entries are stopped for this follower today (its loss limit reached, or its P&L cannot be evaluated: fails closed for entries only), or null. */
  entryBlock(_followerId: string): string | null {
    return null;
  }

  /** For /rules and /status; null when the follower has no loss limit. */
  status(_followerId: string): LossStatus | null {
    return null;
  }
}
