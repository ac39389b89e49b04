/** Renders engine state and copies as chat messages (HTML). */
import { InlineKeyboard } from 'grammy';
import type { StatusView } from '../engine/control.js';
import type { CopyRow } from '../store/index.js';
import { istTime } from '../domain/time.js';
import { escapeHtml, formatAge, formatInr, formatNum, formatQty } from './format.js';

export function describeCopy(c: CopyRow): string {
  const price = c.orderType === 'MARKET' ? 'MKT' : `${c.orderType} ${formatInr(c.price || c.triggerPrice)}`;
  const qty = c.plannedQty > 0 ? ` ${formatQty(c.plannedQty, c.lotSize)}` : '';
  return `${c.side}${qty} ${escapeHtml(c.symbol)} ${price}`;
}

export function statusText(v: StatusView, now: number): string {
  const mode = v.mode === 'live' ? '🔴 LIVE' : `📝 PAPER${v.demo ? ' (demo)' : ''}`;
  const engine = v.pausedAll ? `⏸ PAUSED (entries) by ${v.pausedAll.by ?? 'system'} at ${istTime(v.pausedAll.at)} IST` : '▶️ RUNNING';
  const lastEvent = v.lastLeaderEventAt ? `last event ${formatAge(now - v.lastLeaderEventAt)} ago` : 'no events yet';
  const lines = [
    `<b>tandem</b> · ${mode} · ${istTime(now)} IST`,
    `Engine: ${engine}`,
    `Leader: ${escapeHtml(v.leaderBroker)} · ${v.leaderStream} · ${lastEvent}`,
    '',
  ];
  for (const f of v.followers) {
    const state = !f.sessionOk ? '🔑 token expired' : f.paused ? '⏸ paused' : '▶️';
    const today = `${f.copiesToday} today (${f.placedToday} placed, ${f.skippedToday} skipped, ${f.failedToday} failed)`;
    const err = f.lastError ? `last error ${istTime(f.lastError.at)}: ${escapeHtml(f.lastError.reason.slice(0, 120))}` : 'no errors';
    lines.push(`<b>${escapeHtml(f.id)}</b> · ${escapeHtml(f.broker)} · ×${formatNum(f.ratio)} · ${state}`);
    lines.push(`  ${today} · ${f.openPositions} open position(s) · ${err}`);
  }
  return lines.join('\n');
}

export function statusKeyboard(v: StatusView): InlineKeyboard {
  const kb = new InlineKeyboard().text('🔄 Refresh', 'st:r');
  return v.pausedAll ? kb.text('▶️ Resume all', 'st:u') : kb.text('⏸ Pause all', 'st:p');
}

export function ratioExample(old: number, next: number, lotsExample = 4): string {
  const was = Math.floor(lotsExample * old + 1e-9);
  const now = Math.floor(lotsExample * next + 1e-9);
  return `Example: leader ${lotsExample} lots → ${now} lot(s) (was ${was}).`;
}
