/** What the engine tells the outside world (the bot turns these into alerts). */
import type { ApprovalRow, CopyRow } from '../store/index.js';
import type { StreamState } from '../brokers/port.js';

export type EngineEvent =
  | { type: 'copy_placed'; copy: CopyRow }
  | { type: 'copy_skipped'; copy: CopyRow }
  | { type: 'copy_failed'; copy: CopyRow; consequence: string }
  | { type: 'copy_filled'; copy: CopyRow; leaderPrice: number | null }
  | { type: 'copy_cancelled'; copy: CopyRow }
  | { type: 'stream'; accountId: string; state: StreamState; detail?: string }
  | { type: 'session_expired'; accountId: string; detail: string }
  | { type: 'error'; accountId: string | null; message: string }
  /** A large entry waits for a tap: register-before-render has happened (the row exists). */
  | { type: 'approval_requested'; approval: ApprovalRow; copies: CopyRow[]; leaderOrder: string }
  /** Approved, rejected, expired or voided. */
  | { type: 'approval_decided'; approval: ApprovalRow; copies: CopyRow[] };

export interface EngineEvents {
  emit(e: EngineEvent): void;
}

export const silentEvents: EngineEvents = { emit: () => {} };
