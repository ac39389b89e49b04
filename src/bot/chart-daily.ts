/**
 * The day summary's picture: at the day-summary time (15:45 by default) each admin chat gets the
 * day chart that /pnl today shows, as a photo after the summary text (on trading days, as the summary). It follows the chat's
 * /notify setting for summaries (off: not sent; silent: no sound). Sent directly, not through the
 * alert outbox: a picture lost to a failed send is logged, and /pnl draws it again at any time.
 */
import { istDayStart } from '../domain/time.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { PnlRow } from './chart-pnl.js';
import type { NotifyMode } from './notify-prefs.js';

export interface DayChartDeps {
  /** P&L rows since a moment (Control.pnl). */
  pnl(since: number): PnlRow[];
  chatIds: number[];
  /** The chat's /notify mode for an alert kind (Notifier.prefs.modeFor). */
  modeFor(chatId: number, kind: string): NotifyMode;
  sendPhoto(chatId: number, png: Buffer, caption: string, silent: boolean): Promise<void>;
  clock: Clock;
  logger: Logger;
  /** Whether the IST day of an instant is a trading day (nothing is sent on weekends and holidays, as the summary); absent: every day. */
  tradingDay?: (ms: number) => boolean;
}

/** The alert kind whose /notify setting the picture follows (the day summary's). */
export const DAY_CHART_KIND = 'daily_summary';

/** Render today's chart once and send it to every admin chat that wants summaries; resolves with the chats sent to. */
export async function sendDayChart(d: DayChartDeps): Promise<number[]> {
  if (d.tradingDay && !d.tradingDay(d.clock.now())) return [];
  const targets = d.chatIds.map((chatId) => ({ chatId, mode: d.modeFor(chatId, DAY_CHART_KIND) })).filter((t) => t.mode !== 'off');
  if (targets.length === 0) return [];
  const now = d.clock.now();
  const rows = d.pnl(istDayStart(now));
  // Loaded at the first chart, not at start-up (see /pnl in trading-commands.ts).
  const { pnlCaption, renderPnlChart, istDayLabel } = await import('./chart-pnl.js');
  const { png } = renderPnlChart('today', rows, now);
  const caption = pnlCaption('today', rows, now, `📈 <b>P&L</b> · ${istDayLabel(now)} (marked at the last prices seen)`);
  const sent: number[] = [];
  for (const t of targets) {
    try {
      await d.sendPhoto(t.chatId, png, caption, t.mode === 'silent');
      sent.push(t.chatId);
    } catch (e) {
      d.logger.warn({ chat: t.chatId, err: (e as Error).message }, 'day chart not sent');
    }
  }
  return sent;
}
