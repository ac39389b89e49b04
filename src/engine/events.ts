/** What the engine tells the outside world (the bot turns these into alerts). */
import type { CopyRow } from '../store/index.js';
import type { StreamState } from '../brokers/port.js';

export type EngineEvent =
  | { type: 'copy_placed'; copy: CopyRow }
  | { type: 'copy_skipped'; copy: CopyRow }
  | { type: 'copy_failed'; copy: CopyRow; consequence: string }
  | { type: 'copy_filled'; copy: CopyRow; leaderPrice: number | null }
  | { type: 'copy_cancelled'; copy: CopyRow }
  | { type: 'stream'; accountId: string; state: StreamState; detail?: string }
  | { type: 'session_expired'; accountId: string; detail: string }
  | { type: 'error'; accountId: string | null; message: string };

export interface EngineEvents {
  emit(e: EngineEvent): void;
}

export const silentEvents: EngineEvents = { emit: () => {} };
