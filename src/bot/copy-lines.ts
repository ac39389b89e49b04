/**
 * The copies of one leader order as one chat message: the leader's line on top, then a line per
 * copy with a state emoji. Each line's state only moves forward (placed → partially filled →
 * filled; skipped, cancelled and rejected are final), so an event that arrives late — a "placed"
 * after its "filled" — never moves a line back. Pure.
 */
import type { EngineEvent } from '../engine/events.js';
import type { CopyRow, LeaderOrderRow } from '../store/index.js';
import { escapeHtml, formatInr, formatNum, formatQty } from './format.js';
import { describeCopy } from './views.js';

export type LineState = 'placed' | 'partial' | 'filled' | 'cancelled' | 'skipped' | 'exit_not_copied' | 'rejected' | 'failed' | 'unknown';

export interface CopyLine {
  copyId: number;
  followerId: string;
  state: LineState;
  /** Filled quantity shown (a part fill that grows updates its line). */
  filledQty: number;
  /** The line as shown (HTML). */
  text: string;
}

export type CopyEvent = Extract<EngineEvent, { copy: CopyRow }>;

const RANK: Record<LineState, number> = {
  placed: 1,
  partial: 2,
  filled: 3,
  cancelled: 3,
  skipped: 3,
  exit_not_copied: 3,
  rejected: 3,
  failed: 3,
  unknown: 3,
};

/** The /notify kind each line state counts as: it decides whether the line is shown and makes a sound. */
export const KIND_OF_STATE: Record<LineState, string> = {
  placed: 'copy_placed',
  partial: 'copy_filled',
  filled: 'copy_filled',
  cancelled: 'copy_cancelled',
  skipped: 'copy_skipped',
  exit_not_copied: 'copy_failed',
  rejected: 'copy_failed',
  failed: 'copy_failed',
  unknown: 'copy_unknown',
};

/** Whether a line may go from `from` to `to` (mirrors the engine's copy states; see engine/copy-state.ts). */
export function lineMovesTo(from: LineState, to: LineState, fromQty: number, toQty: number): boolean {
  // A copy given up as failed or in doubt is revived when its tagged order turns up.
  if (from === 'failed' || from === 'unknown') return to !== 'skipped' && to !== 'exit_not_copied' && to !== from;
  if (from === 'partial' && to === 'partial') return toQty > fromQty;
  return RANK[from] < 3 && RANK[to] > RANK[from];
}

/** An exit that was not copied leaves the follower holding what the leader closed (nothing held is no problem). */
export function isExitNotCopied(c: CopyRow): boolean {
  return c.state === 'skipped' && c.kind === 'exit' && !c.reason?.startsWith('follower holds no position');
}

function slippage(c: CopyRow, leaderPrice: number | null): string {
  if (!leaderPrice || !(c.avgPrice > 0)) return '';
  const d = (c.avgPrice - leaderPrice) * (c.side === 'BUY' ? 1 : -1);
  return ` · leader ${formatInr(leaderPrice)} · slippage ${formatInr(d)} (${formatNum(Number(((d / leaderPrice) * 100).toFixed(2)))}%)`;
}

/**
 * The line a copy event puts in its leader order's message. `leaderAvg` (the leader's average, when
 * known) prices the slippage of a copy found already filled when it was placed or adopted.
 */
export function lineOf(e: CopyEvent, leaderAvg: number | null = null): CopyLine {
  const c = e.copy;
  const who = `<b>${escapeHtml(c.followerId)}</b>`;
  const why = escapeHtml(c.reason ?? 'no reason');
  const line = (state: LineState, text: string, filledQty = c.filledQty): CopyLine => ({ copyId: c.id, followerId: c.followerId, state, filledQty, text });
  switch (e.type) {
    case 'copy_placed': {
      if (c.state === 'filled') return lineOf({ type: 'copy_filled', copy: c, leaderPrice: leaderAvg });
      const note = c.reason ? ` · ${escapeHtml(c.reason)}` : '';
      const placed = `${describeCopy(c)} placed · order ${escapeHtml(c.followerOrderId ?? '?')} · leader ${escapeHtml(c.leaderOrderId)}${note}`;
      if (c.filledQty > 0) return line('partial', `🌓 ${who} ${placed} · filled ${formatQty(c.filledQty, c.lotSize)} so far @ ${formatInr(c.avgPrice)}`);
      return line('placed', `⏳ ${who} ${placed}`, 0);
    }
    case 'copy_filled':
      return line('filled', `✅ ${who} filled ${c.side} ${formatQty(c.filledQty, c.lotSize)} ${escapeHtml(c.symbol)} @ ${formatInr(c.avgPrice)}${slippage(c, e.leaderPrice)}`);
    case 'copy_cancelled': {
      const part = c.filledQty > 0 ? ` · ${formatQty(c.filledQty, c.lotSize)} filled before @ ${formatInr(c.avgPrice)}` : '';
      return line('cancelled', `🚫 ${who} cancelled ${describeCopy(c)} (${escapeHtml(c.reason ?? 'leader cancelled')})${part}`);
    }
    case 'copy_skipped':
      if (isExitNotCopied(c)) return line('exit_not_copied', `⚠️ ${who} exit not copied: ${c.side} ${escapeHtml(c.symbol)}: ${why} (see the alert)`);
      return line('skipped', `⏭ ${who} skipped ${c.side} ${escapeHtml(c.symbol)} (leader ${escapeHtml(c.leaderOrderId)}): ${why}`);
    case 'copy_failed':
      return line(c.state === 'rejected' ? 'rejected' : 'failed', `❌ ${who} ${describeCopy(c)} ${c.state === 'rejected' ? 'rejected' : 'failed'}: ${why}`);
    case 'copy_unknown':
      return line('unknown', `❓ ${who} ${describeCopy(c)} outcome unknown: nothing more is sent by itself (see the alert with buttons)`);
  }
}

/** Put a line in its place (by copy): added, moved forward, or left as it is. Returns the new lines, or null when nothing changed. */
export function applyLine(lines: CopyLine[], next: CopyLine): CopyLine[] | null {
  const i = lines.findIndex((l) => l.copyId === next.copyId);
  if (i === -1) return [...lines, next].sort((a, b) => a.copyId - b.copyId);
  const cur = lines[i]!;
  if (!lineMovesTo(cur.state, next.state, cur.filledQty, next.filledQty)) return null;
  const out = [...lines];
  out[i] = next;
  return out;
}

/** The leader's line: what it did, and where its own order stands (or which /flatten or drift sync the orders are). */
export function leaderLine(leaderOrderId: string, leader: LeaderOrderRow | undefined, lotSize: number): string {
  if (!leader) {
    const id = escapeHtml(leaderOrderId);
    if (leaderOrderId.startsWith('flatten-')) return `🧹 <b>Flatten orders</b> (${id})`;
    if (leaderOrderId.startsWith('sync-')) return `🔁 <b>Drift sync orders</b> (${id})`;
    return `📋 <b>Leader</b> order ${id}`;
  }
  const price = leader.orderType === 'MARKET' ? 'MKT' : `${leader.orderType} ${formatInr(leader.price || leader.triggerPrice)}`;
  let status = '';
  if (leader.filledQty > 0) {
    const part = leader.filledQty < leader.quantity ? ` ${formatQty(leader.filledQty, lotSize)}` : '';
    status = ` · filled${part} @ ${formatInr(leader.avgPrice)}`;
  }
  if (leader.status === 'cancelled' || leader.status === 'rejected' || leader.status === 'expired') status += ` · ${leader.status}`;
  return `📋 <b>Leader</b> ${leader.side} ${formatQty(leader.quantity, lotSize)} ${escapeHtml(leader.symbol)} ${price} · order ${escapeHtml(leaderOrderId)}${status}`;
}

/** Room under Telegram's 4096 characters (counted with the HTML tags, so the message is never split in two). */
const MAX_CHARS = 3900;

/** The whole message: the leader's line, then each line shown in this chat. */
export function groupText(header: string, lines: CopyLine[]): string {
  const out = [header];
  let size = header.length;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    size += l.text.length + 1;
    if (size > MAX_CHARS) {
      out.push(`… and ${lines.length - i} more (see /orders)`);
      break;
    }
    out.push(l.text);
  }
  return out.join('\n');
}
