/**
 * The /pnl pictures from a known series: the texts drawn (title, totals, legend, IST and ₹ axis
 * labels) are checked before looking at pixels, then the decoded PNG (size, lines in the plot
 * area in each account's colour). Also the day-summary hook's sending rules.
 */
import { describe, expect, it, vi } from 'vitest';
import { FOLLOWER_COLOURS, LEADER_COLOUR } from '../../src/bot/chart.js';
import { dayChartConfig, dayLines, pnlCaption, renderPnlChart, signedInr, timeTicks, weekDays, type PnlRow } from '../../src/bot/chart-pnl.js';
import { sendDayChart } from '../../src/bot/chart-daily.js';
import { countColour, inkIn } from './chart-png.js';

const IST = 5.5 * 3600_000;
/** Epoch ms of HH:MM IST on 2 Nov 2026 (a Monday), or `days` later. */
const at = (h: number, m: number, days = 0) => Date.UTC(2026, 10, 2 + days) - IST + (h * 60 + m) * 60_000;
const NOW = at(15, 45);

const ROWS: PnlRow[] = [
  { account: 'leader', pnl: 125_000, series: [{ at: at(9, 30), pnl: 0 }, { at: at(10, 30), pnl: 60_000 }, { at: at(12, 0), pnl: 150_000 }, { at: at(14, 0), pnl: 120_000 }] },
  { account: 'mom', pnl: 62_500, series: [{ at: at(9, 30), pnl: 0 }, { at: at(10, 30), pnl: 30_000 }, { at: at(12, 0), pnl: 75_000 }, { at: at(14, 0), pnl: 60_000 }] },
  { account: 'dad', pnl: -20_000, series: [{ at: at(9, 31), pnl: 0 }, { at: at(11, 0), pnl: -45_000 }, { at: at(13, 0), pnl: -30_000 }] },
];

describe('the day chart', () => {
  it('draws title, totals, legend, IST times and en-IN rupees', () => {
    const { texts } = renderPnlChart('today', ROWS, NOW);
    expect(texts).toContain('P&L · Mon 2 Nov 2026');
    expect(texts).toContain('Leader +₹1,25,000 · followers together +₹42,500 · marked at the last prices seen');
    expect(texts).toEqual(expect.arrayContaining(['leader  +₹1,25,000', 'mom  +₹62,500', 'dad  -₹20,000']));
    expect(texts).toEqual(expect.arrayContaining(['IST', '09:15', '10:00', '12:00', '15:00', '15:30']));
    expect(texts).toEqual(expect.arrayContaining(['₹0', '₹1,00,000', '-₹50,000']));
    expect(texts).not.toContain('₹100,000');
  });

  it('decodes to 1200×675 with each account drawn in its colour inside the plot area', async () => {
    const r = renderPnlChart('today', ROWS, NOW);
    const plot = await inkIn(r.png, r.area);
    expect([plot.width, plot.height]).toEqual([1200, 675]);
    expect(r.area.right - r.area.left).toBeGreaterThan(900);
    expect(countColour(plot.pixels, FOLLOWER_COLOURS[0]!)).toBeGreaterThan(800); // mom, blue
    expect(countColour(plot.pixels, FOLLOWER_COLOURS[1]!)).toBeGreaterThan(800); // dad, orange
    expect(countColour(plot.pixels, LEADER_COLOUR, 30)).toBeGreaterThan(500);
    // Nothing drawn outside: the area above the title is white.
    const top = await inkIn(r.png, { left: 0, top: 0, right: 1200, bottom: 5 });
    expect(top.ink).toBe(0);
  });

  it('draws the leader dashed and each follower solid, stepping at each fill', () => {
    const cfg = dayChartConfig(ROWS, NOW);
    const ds = cfg.data.datasets;
    expect(ds[0]!.borderDash).not.toEqual([]);
    expect(ds.slice(1).map((d) => d.borderDash)).toEqual([[], []]);
    expect(ds.every((d) => d.stepped === 'after')).toBe(true);
    expect(new Set(ds.map((d) => d.borderColor)).size).toBe(3);
  });

  it('runs each line from ₹0 at the open to the total at the close (or now, during the session)', () => {
    const after = dayLines(ROWS, NOW);
    expect([after.from, after.to]).toEqual([555, 930]);
    const leader = after.lines[0]!.points;
    expect(leader[0]).toEqual({ x: 555, y: 0 });
    expect(leader.at(-1)).toEqual({ x: 930, y: 125_000 });
    expect(leader.map((p) => p.x)).toEqual([555, 570, 630, 720, 840, 930]);
    const during = dayLines(ROWS, at(14, 30));
    expect(during.lines[0]!.points.at(-1)).toEqual({ x: 870, y: 125_000 });
    expect(during.to).toBe(930);
  });

  it('widens the axis to whole hours around fills outside the session, and copes with no fills', () => {
    const early = dayLines([{ account: 'leader', pnl: 5, series: [{ at: at(8, 40), pnl: 0 }, { at: at(17, 10), pnl: 5 }] }], NOW);
    expect([early.from, early.to]).toEqual([480, 1080]);
    const none = dayLines([{ account: 'leader', pnl: 0, series: [] }], at(11, 0));
    expect(none.lines[0]!.points).toEqual([{ x: 555, y: 0 }, { x: 660, y: 0 }]);
    expect(renderPnlChart('today', [{ account: 'leader', pnl: 0, series: [] }], at(8, 0)).texts).toContain('₹0');
  });

  it('puts time ticks on the bounds and whole hours', () => {
    expect(timeTicks(555, 930)).toEqual([555, 600, 660, 720, 780, 840, 900, 930]);
    expect(timeTicks(480, 1080)).toEqual([480, 540, 600, 660, 720, 780, 840, 900, 960, 1020, 1080]);
    expect(timeTicks(0, 1440)).toEqual([0, 120, 240, 360, 480, 600, 720, 840, 960, 1080, 1200, 1320, 1440]);
  });
});

describe('the week chart', () => {
  const week: PnlRow[] = [
    { account: 'leader', pnl: 9_000, series: [{ at: at(10, 0, -6), pnl: 1_000 }, { at: at(10, 0, -3), pnl: 4_000 }, { at: at(11, 0, -3), pnl: 3_500 }, { at: at(10, 0, 0), pnl: 8_000 }] },
    { account: 'mom', pnl: -1_000, series: [{ at: at(10, 0, -4), pnl: -2_000 }] },
  ];

  it('splits the cumulative series into days, today up to the total, weekends left out when empty', () => {
    const { dayStarts, values } = weekDays(week, NOW);
    // Tue 27 Oct … Mon 2 Nov; Sat 31 Oct and Sun 1 Nov had nothing.
    expect(dayStarts.length).toBe(5);
    expect(values.get('leader')).toEqual([1_000, 0, 0, 2_500, 5_500]);
    expect(values.get('mom')).toEqual([0, 0, -2_000, 0, 1_000]);
  });

  it('draws one bar per account per day with day labels, legend and en-IN rupees', async () => {
    const r = renderPnlChart('week', week, NOW);
    expect(r.texts).toContain('P&L by day · Tue 27 Oct – Mon 2 Nov 2026');
    expect(r.texts).toEqual(expect.arrayContaining(['Tue 27 Oct', 'Fri 30 Oct', 'Mon 2 Nov', 'leader  +₹9,000', 'mom  -₹1,000', '₹0']));
    expect(r.texts).not.toContain('Sat 31 Oct');
    const plot = await inkIn(r.png, r.area);
    expect(countColour(plot.pixels, FOLLOWER_COLOURS[0]!)).toBeGreaterThan(1000);
  });
});

describe('the caption', () => {
  it('lists each account with its total and stays within Telegram’s 1024', () => {
    expect(pnlCaption('today', ROWS, NOW)).toBe(
      'P&L today · Mon 2 Nov 2026 (marked at the last prices seen)\n<b>leader</b>: ₹1,25,000.00\n<b>mom</b>: ₹62,500.00\n<b>dad</b>: -₹20,000.00',
    );
    const many = Array.from({ length: 80 }, (_, i) => ({ account: `follower-${i}`, pnl: 1_234_567, series: [] }));
    const c = pnlCaption('week', many, NOW);
    expect(c.length).toBeLessThanOrEqual(1024);
    expect(c).toMatch(/… and \d+ more \(see the picture\)$/);
  });

  it('signs whole rupees', () => {
    expect([signedInr(1234567.4), signedInr(-5000), signedInr(-0.2), signedInr(0)]).toEqual(['+₹12,34,567', '-₹5,000', '₹0', '₹0']);
  });
});

describe('the day summary picture', () => {
  const deps = (over: Partial<Parameters<typeof sendDayChart>[0]> = {}) => ({
    pnl: vi.fn(() => ROWS),
    chatIds: [1, 2, 3],
    modeFor: (chatId: number) => (chatId === 2 ? ('off' as const) : chatId === 3 ? ('silent' as const) : ('on' as const)),
    sendPhoto: vi.fn(async () => {}),
    clock: { now: () => NOW } as never,
    logger: { warn: vi.fn() } as never,
    ...over,
  });

  it('sends today’s chart to each admin chat by its /notify setting for summaries', async () => {
    const sendPhoto = vi.fn(async (_chatId: number, _png: Buffer, _caption: string, _silent: boolean) => {});
    const d = deps({ sendPhoto });
    expect(await sendDayChart(d)).toEqual([1, 3]);
    expect(d.pnl).toHaveBeenCalledWith(at(0, 0));
    const calls = sendPhoto.mock.calls;
    expect(calls.map((c) => [c[0], c[3]])).toEqual([[1, false], [3, true]]);
    expect(calls[0]![1].subarray(1, 4).toString()).toBe('PNG');
    expect(calls[0]![2]).toMatch(/^📈 <b>P&L<\/b> · Mon 2 Nov 2026/);
    expect(calls[0]![2]).toContain('<b>dad</b>: -₹20,000.00');
  });

  it('logs a chat it could not reach and still sends to the others; renders nothing on a holiday or when all are off', async () => {
    const sendPhoto = vi.fn(async (chatId: number) => {
      if (chatId === 1) throw new Error('403: blocked');
    });
    const d = deps({ sendPhoto });
    expect(await sendDayChart(d)).toEqual([3]);
    expect(sendPhoto).toHaveBeenCalledTimes(2);
    expect((d.logger as unknown as { warn: ReturnType<typeof vi.fn> }).warn).toHaveBeenCalledOnce();
    const holiday = deps({ tradingDay: () => false });
    expect(await sendDayChart(holiday)).toEqual([]);
    expect(holiday.pnl).not.toHaveBeenCalled();
    const off = deps({ modeFor: () => 'off' as const });
    expect(await sendDayChart(off)).toEqual([]);
    expect(off.pnl).not.toHaveBeenCalled();
  });
});
