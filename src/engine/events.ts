/** What the engine tells the outside world (the bot turns these into alerts). */
import type { ApprovalRow, CopyRow } from '../store/index.js';
import type { StreamState } from '../brokers/port.js';
import type { LoginHelp } from '../brokers/login.js';
import type { DriftItem } from './drift.js';

export interface TokenProblem {
  accountId: string;
  state: 'missing' | 'expired' | 'expiring';
  detail: string | null;
  expiresAt: number | null;
  login: LoginHelp;
}

export interface FollowerDay {
  followerId: string;
  copies: number;
  filled: number;
  rejected: number;
  failed: number;
  skipped: number;
  /** Approvals nobody answered in time (not copied). */
  expired: number;
}

export type EngineEvent =
  | { type: 'copy_placed'; copy: CopyRow }
  | { type: 'copy_skipped'; copy: CopyRow }
  | { type: 'copy_failed'; copy: CopyRow; consequence: string }
  | { type: 'copy_filled'; copy: CopyRow; leaderPrice: number | null }
  | { type: 'copy_cancelled'; copy: CopyRow }
  /** Every look-up of the copy's tag failed until the give-up time: the owner decides (two buttons). */
  | { type: 'copy_unknown'; copy: CopyRow }
  | { type: 'stream'; accountId: string; state: StreamState; detail?: string; downForMs?: number }
  | { type: 'session_expired'; accountId: string; detail: string }
  /** A new token brought a dead account back (its copies resume). */
  | { type: 'session_restored'; accountId: string }
  /** The morning check: accounts whose token is missing, dead or dies before `until`, and how to log in. */
  | { type: 'token_nag'; accounts: TokenProblem[]; until: string }
  /** After the close: each follower's day. */
  | { type: 'daily_summary'; day: string; followers: FollowerDay[] }
  | { type: 'error'; accountId: string | null; message: string }
  /** A large entry waits for a tap: register-before-render has happened (the row exists). */
  | { type: 'approval_requested'; approval: ApprovalRow; copies: CopyRow[]; leaderOrder: string }
  /** Approved, rejected, expired or voided. */
  | { type: 'approval_decided'; approval: ApprovalRow; copies: CopyRow[] }
  /** A follower's position differs from the scaled leader's beyond rounding (once per change). */
  | { type: 'drift'; drift: DriftItem };

export interface EngineEvents {
  emit(e: EngineEvent): void;
}

