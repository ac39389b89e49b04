/** Engine events → alert texts (HTML) with a priority. Pure. */
import type { EngineEvent } from '../engine/events.js';
import { escapeHtml, formatInr, formatNum, formatQty } from './format.js';
import { describeCopy } from './views.js';

export const PRIORITY = { approval: 0, error: 1, fill: 2, info: 3 } as const;

export interface Alert {
  priority: number;
  kind: string;
  text: string;
}

export function alertOf(e: EngineEvent): Alert | null {
  switch (e.type) {
    case 'copy_placed': {
      const c = e.copy;
      const note = c.reason ? ` · ${escapeHtml(c.reason)}` : '';
      return { priority: PRIORITY.fill, kind: 'copy_placed', text: `✅ <b>${escapeHtml(c.followerId)}</b> ${describeCopy(c)} placed · order ${escapeHtml(c.followerOrderId ?? '?')} · leader ${escapeHtml(c.leaderOrderId)}${note}` };
    }
    case 'copy_skipped': {
      const c = e.copy;
      return { priority: PRIORITY.info, kind: 'copy_skipped', text: `⏭ <b>${escapeHtml(c.followerId)}</b> skipped ${c.side} ${escapeHtml(c.symbol)} (leader ${escapeHtml(c.leaderOrderId)}): ${escapeHtml(c.reason ?? 'no reason')}` };
    }
    case 'copy_failed': {
      const c = e.copy;
      return {
        priority: PRIORITY.error,
        kind: 'copy_failed',
        text: `❌ <b>${escapeHtml(c.followerId)}</b> ${describeCopy(c)} ${c.state === 'rejected' ? 'REJECTED' : 'FAILED'}: ${escapeHtml(c.reason ?? 'unknown reason')}\n${escapeHtml(e.consequence)}`,
      };
    }
    case 'copy_filled': {
      const c = e.copy;
      let slip = '';
      if (e.leaderPrice && c.avgPrice > 0) {
        const d = (c.avgPrice - e.leaderPrice) * (c.side === 'BUY' ? 1 : -1);
        slip = ` · leader ${formatInr(e.leaderPrice)} · slippage ${formatInr(d)} (${formatNum(Number(((d / e.leaderPrice) * 100).toFixed(2)))}%)`;
      }
      return { priority: PRIORITY.fill, kind: 'copy_filled', text: `💰 <b>${escapeHtml(c.followerId)}</b> filled ${c.side} ${formatQty(c.filledQty, c.lotSize)} ${escapeHtml(c.symbol)} @ ${formatInr(c.avgPrice)}${slip}` };
    }
    case 'copy_cancelled':
      return { priority: PRIORITY.info, kind: 'copy_cancelled', text: `🚫 <b>${escapeHtml(e.copy.followerId)}</b> cancelled ${describeCopy(e.copy)} (${escapeHtml(e.copy.reason ?? 'leader cancelled')})` };
    case 'stream': {
      const who = e.accountId === 'leader' ? 'Leader feed' : `${escapeHtml(e.accountId)}'s order stream`;
      if (e.state === 'disconnected') return { priority: PRIORITY.error, kind: 'connectivity', text: `🔌 ${who} disconnected${e.detail ? ` (${escapeHtml(e.detail)})` : ''}. Reconnecting; missed orders are recovered from the order book.` };
      if (e.state === 'connected') return { priority: PRIORITY.info, kind: 'connectivity', text: `🔗 ${who} connected.` };
      return null;
    }
    case 'session_expired':
      return {
        priority: PRIORITY.error,
        kind: 'session_expired',
        text: `🔑 <b>${escapeHtml(e.accountId)}</b>: broker session expired (${escapeHtml(e.detail)}). Copies to this account are skipped — exits too — until its token is renewed.`,
      };
    case 'error':
      return { priority: PRIORITY.error, kind: 'error', text: `⚠️ ${e.accountId ? `<b>${escapeHtml(e.accountId)}</b>: ` : ''}${escapeHtml(e.message)}` };
  }
}
