/** Drift and Sync as chat messages (HTML). Pure. */
import { InlineKeyboard } from 'grammy';
import type { DriftItem, DriftScan, SyncPlan } from '../engine/drift.js';
import { PRIORITY, type Alert } from './alerts.js';
import { escapeHtml, formatNum, formatQty } from './format.js';

/** "LONG 2 lots (150)", "SHORT 10", "flat". */
export function signedQty(q: number, lotSize: number): string {
  if (q === 0) return 'flat';
  return `${q > 0 ? 'LONG' : 'SHORT'} ${formatQty(Math.abs(q), lotSize)}`;
}

/** One line: who, what, leader, follower, target. */
export function driftLine(i: DriftItem): string {
  const exact = Math.abs(i.exactLots - i.target / i.lotSize) > 1e-9 ? ` (exact ${formatNum(Number(i.exactLots.toFixed(2)))} lots)` : '';
  return `<b>${escapeHtml(i.followerId)}</b> ${escapeHtml(i.instrument.symbol)} ${i.product}: leader ${signedQty(i.leaderNet, i.lotSize)} → target ${signedQty(i.target, i.lotSize)}${exact}; ${escapeHtml(i.followerId)} holds ${signedQty(i.followerNet, i.lotSize)}`;
}

export function syncButton(i: DriftItem): InlineKeyboard {
  return new InlineKeyboard().text(`Sync ${i.followerId} ${i.instrument.symbol.slice(0, 24)}…`, `dr:${i.id}:1`);
}

/** The alert: one per follower and instrument, raised again only when the numbers change. */
export function driftAlertOf(i: DriftItem): Alert {
  return {
    priority: PRIORITY.error,
    kind: 'drift',
    text: `⚖️ <b>DRIFT</b> · ${driftLine(i)}.\nSync shows the orders that would bring ${escapeHtml(i.followerId)} to the target, and places them on a second tap.`,
    markup: syncButton(i),
  };
}

/** /drift: every drift now, and what could not be checked. */
export function driftListText(scan: DriftScan): string {
  const lines: string[] = [];
  if (scan.items.length === 0) lines.push('⚖️ No drift: every follower matches the scaled leader (within rounding).');
  else lines.push(`⚖️ <b>Drift</b> (${scan.items.length})`, ...scan.items.map((i) => `• ${driftLine(i)}`));
  if (scan.notChecked.length) {
    lines.push('Not checked:');
    for (const n of scan.notChecked) lines.push(`• ${escapeHtml(n.followerId)}${n.symbol ? ` ${escapeHtml(n.symbol)}` : ''}: ${escapeHtml(n.reason)}`);
  }
  return lines.join('\n');
}

export function driftListKeyboard(scan: DriftScan): InlineKeyboard | null {
  if (scan.items.length === 0) return null;
  const kb = new InlineKeyboard();
  for (const i of scan.items) kb.text(`Sync ${i.followerId} ${i.instrument.symbol.slice(0, 24)}…`, `dr:${i.id}:1`).row();
  return kb;
}

/** The first tap's answer: the orders a Sync would place, and what it will not place. */
export function syncPlanText(p: SyncPlan, header = '🔁 <b>Sync</b>'): string {
  const orders = p.legs.map((l) => `• ${l.kind === 'exit' ? 'reduce' : 'add'}: ${l.side} ${formatQty(l.qty, l.lotSize)} ${escapeHtml(l.instrument.symbol)} MKT`);
  const lines = [`${header} · ${driftLine(p.item)}`];
  if (orders.length) lines.push(`Market order(s) to place (above the freeze limit they go out in slices):`, ...orders);
  else lines.push('Nothing can be placed now.');
  for (const n of p.notes) lines.push(`⚠ ${escapeHtml(n)}`);
  if (orders.length) lines.push('Step 1 of 2. This request lapses in 2 minutes.');
  return lines.join('\n');
}

export function syncConfirmKeyboard(id: string, n: number): InlineKeyboard {
  return new InlineKeyboard().text(`Yes, place ${n} order(s)`, `dr:${id}:y`).text('Cancel', `dr:${id}:n`);
}
