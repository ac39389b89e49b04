/**
 * The /pnl pictures (and the day summary's): cumulative ₹ P&L per account through the IST day, the
 * leader dashed and each follower solid; or a week as daily bars per account. Title with the date,
 * subtitle with the totals, the legend and both axes are in the picture. Data: the rows of
 * `Control.pnl(since)` (a total marked at the last prices seen, and the P&L after each fill).
 */
import type { ChartConfiguration, ChartDataset, Scale } from 'chart.js';
import { IST_OFFSET_MS, istDayStart } from '../domain/time.js';
import { CHART_SIZE, FONT_FAMILY_BOLD, FOLLOWER_COLOURS, LEADER_COLOUR, renderChart, type RenderedChart } from './chart.js';
import { escapeHtml, formatInr } from './format.js';

export interface PnlRow {
  account: string;
  /** Total over the period, marked at the last prices seen. */
  pnl: number;
  /** P&L after each fill of the period (cumulative). */
  series: { at: number; pnl: number }[];
}

export type PnlPeriod = 'today' | 'week';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** NSE cash/F&O session, minutes after IST midnight. */
const OPEN = 9 * 60 + 15;
const CLOSE = 15 * 60 + 30;
/** Telegram's caption limit. */
const CAPTION_MAX = 1024;

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Mon 2 Nov 2026" (IST); without the year: "Mon 2 Nov". */
export function istDayLabel(ms: number, year = true): string {
  const d = new Date(ms + IST_OFFSET_MS);
  return `${WEEKDAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}${year ? ` ${d.getUTCFullYear()}` : ''}`;
}

/** Whole rupees with en-IN grouping and a sign: +₹1,23,457 · -₹5,000 · ₹0. */
export function signedInr(n: number): string {
  const r = Math.round(n);
  return r > 0 ? `+${formatInr(r, true)}` : formatInr(r === 0 ? 0 : r, true);
}

/** `HH:MM` from minutes after midnight. */
export function hhmm(minutes: number): string {
  const m = Math.round(minutes);
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

const colourOf = (i: number, account: string) => (account === 'leader' ? LEADER_COLOUR : FOLLOWER_COLOURS[(i - 1 + FOLLOWER_COLOURS.length) % FOLLOWER_COLOURS.length]!);

/** The totals line: the leader's, and the followers' together. */
function totalsText(leader: number | null, followers: number[]): string {
  const parts: string[] = [];
  if (leader !== null) parts.push(`Leader ${signedInr(leader)}`);
  if (followers.length) parts.push(`followers together ${signedInr(followers.reduce((a, b) => a + b, 0))}`);
  return `${parts.join(' · ')} · marked at the last prices seen`;
}

export interface DayLines {
  /** Axis bounds, minutes after IST midnight. */
  from: number;
  to: number;
  lines: { account: string; total: number; points: { x: number; y: number }[] }[];
}

/**
 * Each account's line through the day: ₹0 at the start of the axis, the P&L after each fill, and
 * the total (at the last prices seen) at the end of the line — now, or the close once it is past.
 * The axis is the session 09:15–15:30, widened to whole hours around fills outside it.
 */
export function dayLines(rows: PnlRow[], now: number): DayLines {
  const dayStart = istDayStart(now);
  const minuteOf = (at: number) => (at - dayStart) / MINUTE;
  const times = rows.flatMap((r) => r.series.map((p) => minuteOf(p.at)));
  const first = times.length ? Math.min(...times) : OPEN;
  const last = times.length ? Math.max(...times) : OPEN;
  const from = first < OPEN ? Math.floor(first / 60) * 60 : OPEN;
  const to = last > CLOSE ? Math.ceil(last / 60) * 60 : CLOSE;
  const end = Math.max(from, last, Math.min(minuteOf(now), to));
  return {
    from,
    to,
    lines: rows.map((r) => ({
      account: r.account,
      total: r.pnl,
      points: [{ x: from, y: 0 }, ...[...r.series].sort((a, b) => a.at - b.at).map((p) => ({ x: minuteOf(p.at), y: p.pnl })), { x: end, y: r.pnl }],
    })),
  };
}

/** Tick values for the time axis: the bounds and the whole hours between (every 2 h on a long day). */
export function timeTicks(from: number, to: number): number[] {
  const step = to - from > 10 * 60 ? 120 : 60;
  const out = [from];
  for (let m = Math.floor(from / step) * step + step; m < to; m += step) if (m - out[out.length - 1]! >= 30) out.push(m);
  if (to - out[out.length - 1]! < 30 && out.length > 1) out.pop();
  out.push(to);
  return out;
}

const rupeeAxis = {
  grace: '8%',
  ticks: { precision: 0, callback: (v: number | string) => formatInr(Number(v), true) },
  grid: { color: (c: { tick?: { value: number } }) => (c.tick?.value === 0 ? '#777777' : '#e3e3e3'), lineWidth: (c: { tick?: { value: number } }) => (c.tick?.value === 0 ? 2 : 1) },
};

function titles(title: string, subtitle: string) {
  return {
    title: { display: true, text: title, font: { size: 26, family: FONT_FAMILY_BOLD }, padding: { top: 8, bottom: 4 } },
    subtitle: { display: true, text: subtitle, font: { size: 17 }, color: '#555555', padding: { bottom: 14 } },
    legend: { position: 'bottom' as const, labels: { usePointStyle: true, pointStyle: 'line' as const, boxWidth: 44, padding: 22, font: { size: 19 } } },
  };
}

/** The day chart's Chart.js configuration (pure). */
export function dayChartConfig(rows: PnlRow[], now: number): ChartConfiguration<'line'> {
  const { from, to, lines } = dayLines(rows, now);
  const ticks = timeTicks(from, to);
  const datasets: ChartDataset<'line', { x: number; y: number }[]>[] = lines.map((l, i) => ({
    label: `${l.account}  ${signedInr(l.total)}`,
    data: l.points,
    stepped: 'after',
    borderColor: colourOf(i, l.account),
    backgroundColor: colourOf(i, l.account),
    borderWidth: l.account === 'leader' ? 3 : 3.5,
    borderDash: l.account === 'leader' ? [12, 7] : [],
    pointRadius: 0,
  }));
  const leader = lines.find((l) => l.account === 'leader');
  return {
    type: 'line',
    data: { datasets },
    options: {
      layout: { padding: { left: 10, right: 28, top: 4, bottom: 4 } },
      plugins: titles(`P&L · ${istDayLabel(now)}`, totalsText(leader ? leader.total : null, lines.filter((l) => l.account !== 'leader').map((l) => l.total))),
      scales: {
        x: {
          type: 'linear',
          min: from,
          max: to,
          title: { display: true, text: 'IST', font: { size: 15 }, color: '#666666' },
          grid: { color: '#eeeeee' },
          ticks: { autoSkip: false, maxRotation: 0, callback: (v: number | string) => hhmm(Number(v)) },
          afterBuildTicks: (axis: Scale) => {
            axis.ticks = ticks.map((value) => ({ value }));
          },
        },
        y: { type: 'linear', ...rupeeAxis },
      },
    },
  };
}

/** P&L per IST day of the 7 days ending today; weekend days with nothing on them are left out. */
export function weekDays(rows: PnlRow[], now: number, days = 7): { dayStarts: number[]; values: Map<string, number[]> } {
  const today = istDayStart(now);
  const all = Array.from({ length: days }, (_, i) => today - (days - 1 - i) * DAY);
  const values = new Map<string, number[]>();
  for (const r of rows) {
    const pts = [...r.series].sort((a, b) => a.at - b.at);
    const upTo = (t: number) => {
      let v = 0;
      for (const p of pts) if (p.at < t) v = p.pnl;
      return v;
    };
    // Each day: the P&L at its end less that at its start; today ends at the total marked now.
    values.set(
      r.account,
      all.map((d, i) => (i === all.length - 1 ? r.pnl : upTo(d + DAY)) - upTo(d)),
    );
  }
  const keep = all.map((d, i) => {
    const wd = new Date(d + IST_OFFSET_MS).getUTCDay();
    return (wd !== 0 && wd !== 6) || [...values.values()].some((v) => Math.round(v[i]!) !== 0);
  });
  for (const [k, v] of values) values.set(k, v.filter((_, i) => keep[i]));
  return { dayStarts: all.filter((_, i) => keep[i]), values };
}

/** The week chart's Chart.js configuration (pure): daily bars, one per account per day. */
export function weekChartConfig(rows: PnlRow[], now: number): ChartConfiguration<'bar'> {
  const { dayStarts, values } = weekDays(rows, now);
  const datasets: ChartDataset<'bar', number[]>[] = rows.map((r, i) => {
    const c = colourOf(i, r.account);
    return {
      label: `${r.account}  ${signedInr(r.pnl)}`,
      data: values.get(r.account) ?? [],
      backgroundColor: r.account === 'leader' ? 'rgba(34,34,34,0.18)' : c,
      borderColor: c,
      borderWidth: r.account === 'leader' ? 2 : 0,
    };
  });
  const weekFrom = istDayStart(now) - 6 * DAY;
  const leader = rows.find((r) => r.account === 'leader');
  const plugins = titles(`P&L by day · ${istDayLabel(weekFrom, false)} – ${istDayLabel(now)}`, totalsText(leader ? leader.pnl : null, rows.filter((r) => r.account !== 'leader').map((r) => r.pnl)));
  return {
    type: 'bar',
    data: { labels: dayStarts.map((d) => istDayLabel(d, false)), datasets },
    options: {
      layout: { padding: { left: 10, right: 28, top: 4, bottom: 4 } },
      plugins: { ...plugins, legend: { ...plugins.legend, labels: { ...plugins.legend.labels, usePointStyle: false, boxWidth: 28 } } },
      scales: { x: { grid: { display: false } }, y: { type: 'linear', beginAtZero: true, ...rupeeAxis } },
    },
  };
}

/** The /pnl picture for a period. */
export function renderPnlChart(period: PnlPeriod, rows: PnlRow[], now: number, size = CHART_SIZE): RenderedChart {
  return period === 'today' ? renderChart(dayChartConfig(rows, now), size) : renderChart(weekChartConfig(rows, now), size);
}

/** The photo's caption (HTML): period, then one line per account; cut to Telegram's 1024. */
export function pnlCaption(period: PnlPeriod, rows: PnlRow[], now: number, head?: string): string {
  const when = period === 'today' ? istDayLabel(now) : `${istDayLabel(istDayStart(now) - 6 * DAY, false)} – ${istDayLabel(now)}`;
  const lines = [head ?? `P&L ${period === 'today' ? 'today' : 'last 7 days'} · ${when} (marked at the last prices seen)`];
  for (const r of rows) {
    const line = `<b>${escapeHtml(r.account)}</b>: ${formatInr(r.pnl)}`;
    if ([...lines, line].join('\n').length > CAPTION_MAX - 40) {
      lines.push(`… and ${rows.length - (lines.length - 1)} more (see the picture)`);
      break;
    }
    lines.push(line);
  }
  return lines.join('\n');
}
