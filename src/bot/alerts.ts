/** Engine events → alert texts (HTML) with a priority. Pure. */
import { InlineKeyboard } from 'grammy';
import type { EngineEvent } from '../engine/events.js';
import { istTime } from '../domain/time.js';
import type { ApprovalRow, CopyRow } from '../store/index.js';
import { escapeHtml, formatAge, formatInr, formatNum, formatQty } from './format.js';
import { describeCopy } from './views.js';
import { sessionAlertOf } from './token-alerts.js';
import { driftAlertOf } from './drift-views.js';
import { isExitNotCopied } from './copy-lines.js';

export const PRIORITY = { approval: 0, error: 1, fill: 2, info: 3 } as const;

export interface Alert {
  priority: number;
  kind: string;
  text: string;
  markup?: unknown;
  approvalId?: string;
}

/** The approval request as first shown: leader order, each follower's lots and value, the threshold, expiry. */
export function approvalText(a: ApprovalRow, copies: CopyRow[], leaderOrder: string, now: number): string {
  const secs = Math.max(0, Math.round((a.expiresAt - now) / 1000));
  const lines = [`🟠 <b>APPROVAL NEEDED</b> · ${a.id} · expires ${istTime(a.expiresAt)} IST (${secs} s)`, `Leader ${escapeHtml(leaderOrder)}`];
  for (const c of copies) {
    const value = c.notional != null ? `≈ ${formatInr(c.notional, true)}` : 'value unknown (no price)';
    const over = a.threshold != null && (c.notional == null || c.notional > a.threshold) ? ` ⚠ above ${formatInr(a.threshold, true)}` : '';
    const note = c.reason ? ` · ${escapeHtml(c.reason)}` : '';
    lines.push(`${escapeHtml(c.followerId)} ×${formatNum(c.ratio ?? 1)} → ${formatQty(c.plannedQty, c.lotSize)} ${escapeHtml(c.symbol)} · ${value}${over}${note}`);
  }
  lines.push('No answer means not copied.');
  return lines.join('\n');
}

export function approvalKeyboard(id: string): InlineKeyboard {
  return new InlineKeyboard().text('✅ Approve', `ap:${id}:y`).text('❌ Reject', `ap:${id}:n`);
}

/**
 * A copy whose placement outcome is unknown (every look-up of its tag failed until the give-up
 * time): who, what, why, and what each button does. Built from the copy row alone, so a button
 * can show it again.
 */
export function unknownText(c: CopyRow): string {
  const who = escapeHtml(c.followerId);
  return [
    `❓ <b>${who}</b> ${describeCopy(c)} · OUTCOME UNKNOWN`,
    `tandem cannot tell whether this order reached ${who}'s broker: ${escapeHtml(c.reason ?? 'no answer')}.`,
    `Nothing more is sent by itself. Look for tag <code>${escapeHtml(c.tag)}</code> in ${who}'s order book (leader order ${escapeHtml(c.leaderOrderId)}), then:`,
    `• <b>It is there</b>: tandem reads the book again and tracks the order if it finds it.`,
    `• <b>Send it</b>: places it once more with the same tag (asks you to confirm). If the first one did arrive, ${who} gets it twice.`,
  ].join('\n');
}

export function unknownKeyboard(copyId: number): InlineKeyboard {
  return new InlineKeyboard().text('🔎 It is there / adopt', `uo:${copyId}:a`).text('📤 Send it…', `uo:${copyId}:s`);
}

/** The line appended under a decided request. */
export function decisionLine(a: ApprovalRow, copies: CopyRow[]): string {
  const at = a.decidedAt ? istTime(a.decidedAt) : '?';
  switch (a.state) {
    case 'approved':
      return `✅ Approved by ${a.decidedBy} at ${at} IST → placing ${copies.length} cop${copies.length === 1 ? 'y' : 'ies'}`;
    case 'rejected':
      return `❌ Rejected by ${a.decidedBy} at ${at} IST — not copied`;
    case 'expired':
      return `⏱ Expired at ${at} IST — NOT copied (no response)`;
    case 'void':
      return `🚫 Voided at ${at} IST — NOT copied (${escapeHtml(a.reason ?? 'void')})`;
    case 'pending':
      return '';
  }
}

export function alertOf(e: EngineEvent, now: number): Alert | null {
  switch (e.type) {
    // Placed, filled, cancelled and skipped copies are lines of their leader order's one message
    // (copy-groups.ts). What needs the owner also arrives on its own, so that it makes a sound.
    case 'copy_placed':
    case 'copy_filled':
    case 'copy_cancelled':
      return null;
    case 'copy_skipped': {
      const c = e.copy;
      // An exit not copied leaves the follower holding what the leader closed: that is loud.
      if (!isExitNotCopied(c)) return null;
      return {
        priority: PRIORITY.error,
        kind: 'copy_failed',
        text: `⚠️ <b>${escapeHtml(c.followerId)}</b> EXIT NOT COPIED: ${c.side} ${escapeHtml(c.symbol)} (leader ${escapeHtml(c.leaderOrderId)}): ${escapeHtml(c.reason ?? 'no reason')}. ${escapeHtml(c.followerId)} still holds the position the leader is closing.`,
      };
    }
    case 'copy_failed': {
      const c = e.copy;
      return {
        priority: PRIORITY.error,
        kind: 'copy_failed',
        text: `❌ <b>${escapeHtml(c.followerId)}</b> ${describeCopy(c)} ${c.state === 'rejected' ? 'REJECTED' : 'FAILED'}: ${escapeHtml(c.reason ?? 'unknown reason')} (leader ${escapeHtml(c.leaderOrderId)})\n${escapeHtml(e.consequence)}`,
      };
    }
    case 'copy_unknown':
      return { priority: PRIORITY.error, kind: 'copy_unknown', text: unknownText(e.copy), markup: unknownKeyboard(e.copy.id) };
    case 'stream': {
      const who = e.accountId === 'leader' ? 'Leader feed' : `${escapeHtml(e.accountId)}'s order stream`;
      if (e.state === 'disconnected') return { priority: PRIORITY.error, kind: 'connectivity', text: `🔌 ${who} disconnected${e.detail ? ` (${escapeHtml(e.detail)})` : ''}. Reconnecting; missed orders are recovered from the order book.` };
      if (e.state === 'connected') {
        const after = e.downForMs !== undefined ? ` after ${formatAge(e.downForMs)} down` : '';
        return { priority: PRIORITY.info, kind: 'connectivity', text: `🔗 ${who} recovered${after}.` };
      }
      return null;
    }
    case 'session_expired':
    case 'session_restored':
    case 'token_nag':
    case 'daily_summary':
      return sessionAlertOf(e);
    case 'error':
      return { priority: PRIORITY.error, kind: 'error', text: `⚠️ ${e.accountId ? `<b>${escapeHtml(e.accountId)}</b>: ` : ''}${escapeHtml(e.message)}` };
    case 'approval_requested':
      return {
        priority: PRIORITY.approval,
        kind: 'approval_request',
        text: approvalText(e.approval, e.copies, e.leaderOrder, now),
        markup: approvalKeyboard(e.approval.id),
        approvalId: e.approval.id,
      };
    case 'approval_decided':
      // Edits do not notify: an approval that ended without a yes is also a new, loud message.
      if (e.approval.state === 'expired' || e.approval.state === 'void') {
        const what = e.copies.map((c) => `${escapeHtml(c.followerId)}: ${describeCopy(c)}`).join('\n');
        return { priority: PRIORITY.error, kind: 'approval_closed', text: `${decisionLine(e.approval, e.copies)}\nApproval ${e.approval.id}:\n${what}` };
      }
      return null;
    case 'drift':
      return driftAlertOf(e.drift);
  }
}
