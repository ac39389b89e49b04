/** Renders engine state and copies as chat messages (HTML). */
import { InlineKeyboard } from 'grammy';
import type { FollowerStatus, StatusView } from '../engine/control.js';
import type { CopyRow } from '../store/index.js';
import { istTime } from '../domain/time.js';
import { escapeHtml, formatAge, formatInr, formatNum, formatQty } from './format.js';
import { table } from './reply.js';

export function describeCopy(c: CopyRow): string {
  const price = c.orderType === 'MARKET' ? 'MKT' : `${c.orderType} ${formatInr(c.price || c.triggerPrice)}`;
  const qty = c.plannedQty > 0 ? ` ${formatQty(c.plannedQty, c.lotSize)}` : '';
  return `${c.side}${qty} ${escapeHtml(c.symbol)} ${price}`;
}

/** The /status LOSS LEFT column: '-' no daily loss limit, STOP stopped by it, '?' no price, else the headroom left today. */
export function lossCell(f: Pick<FollowerStatus, 'loss'>): string {
  const l = f.loss;
  if (!l) return '-';
  if (l.stopped) return 'STOP';
  return l.headroomInr === null ? '?' : formatInr(l.headroomInr, true);
}

export function statusText(v: StatusView, now: number, pnlToday: Map<string, number> = new Map(), tokens: Map<string, string> = new Map(), drift: string | null = null): string {
  const mode = v.mode === 'live' ? '🔴 LIVE' : `📝 PAPER${v.demo ? ' (demo)' : ''}`;
  const engine = v.halted
    ? `🛑 HALTED by ${v.halted.by ?? 'system'} at ${istTime(v.halted.at)} IST — nothing is copied, exits included`
    : v.pausedAll
      ? `⏸ PAUSED (entries) by ${v.pausedAll.by ?? 'system'} at ${istTime(v.pausedAll.at)} IST`
      : '▶️ RUNNING';
  const lastEvent = v.lastLeaderEventAt ? `last event ${formatAge(now - v.lastLeaderEventAt)} ago` : 'no events yet';
  const rows = v.followers.map((f) => [
    f.id.slice(0, 10),
    f.broker,
    !f.sessionOk ? 'EXPIRED' : (tokens.get(f.id) ?? 'OK'),
    `×${formatNum(f.ratio)}${f.paused ? '⏸' : ''}`,
    String(f.openPositions),
    `${f.placedToday}/${f.skippedToday}/${f.failedToday}`,
    pnlToday.has(f.id) ? formatInr(pnlToday.get(f.id)!, true) : '-',
    lossCell(f),
  ]);
  const lines = [
    `<b>tandem</b> · ${mode} · ${istTime(now)} IST`,
    `Engine: ${engine}`,
    `Leader: ${escapeHtml(v.leaderBroker)} · ${v.leaderStream} · ${lastEvent}${tokens.has('leader') ? ` · token ${tokens.get('leader')}` : ''}`,
    `Approvals pending: ${v.pendingApprovals}`,
    ...(drift ? [drift] : []),
    `<pre>${escapeHtml(table(['ID', 'BROKER', 'TOKEN', 'RATIO', 'POS', 'OK/SKIP/FAIL', 'P&L', 'LOSS LEFT'], rows))}</pre>`,
  ];
  for (const f of v.followers) {
    // A follower stopped by its loss limit (or whose limit cannot be checked) says why, like a pause.
    if (f.loss?.why) lines.push(`${f.loss.stopped ? '🛑' : '⚠️'} <b>${escapeHtml(f.id)}</b> ${escapeHtml(f.loss.why)}`);
    if (f.lastError) lines.push(`⚠️ <b>${escapeHtml(f.id)}</b> last error ${istTime(f.lastError.at)}: ${escapeHtml(f.lastError.reason.slice(0, 160))}`);
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
