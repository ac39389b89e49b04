/**
 * The trading surface of the chat: the kill switch, flatten (two-step), positions, orders, P&L
 * with a chart, health and recent errors. Commands are plain CommandSpecs in the one registry;
 * their buttons are handled by `registerTradingCallbacks`.
 */
import { InlineKeyboard, InputFile, type Bot } from 'grammy';
import { randomBytes } from 'node:crypto';
import type { FlattenResult, OpenPosition, PositionsRead, UnreadFollower } from '../engine/kill-switch.js';
import type { CopyRow } from '../store/index.js';
import { istDayStart, istTime } from '../domain/time.js';
import type { BotContext } from './auth.js';
import type { CommandDeps, CommandSpec } from './commands.js';
import { escapeHtml, formatAge, formatInr, formatNum, formatQty } from './format.js';
import { replyHtml, table, unknownFollower } from './reply.js';
import { describeCopy } from './views.js';
import { NOTIFY_GROUPS, type NotifyGroup, type NotifyMode } from './notify-prefs.js';

/** Flatten requests waiting for their two taps, by short id; they lapse after two minutes. */
const flattenRequests = new Map<string, { ids: string[] | 'all'; by: number; expiresAt: number }>();
const FLATTEN_TTL_MS = 120_000;

function positionLines(ps: OpenPosition[]): string {
  if (ps.length === 0) return 'No open follower positions.';
  const rows = ps.map((p) => [p.followerId, p.position.instrument.symbol.slice(0, 22), p.position.netQty > 0 ? 'LONG' : 'SHORT', formatQty(Math.abs(p.position.netQty), p.lotSize)]);
  return `<pre>${escapeHtml(table(['ID', 'SYMBOL', 'SIDE', 'QTY'], rows))}</pre>`;
}

function copyLines(cs: CopyRow[]): string {
  return cs.map((c) => `• ${escapeHtml(c.followerId)}: ${describeCopy(c)} (${c.state})`).join('\n');
}

/** Loud: each follower whose positions could not be read, and that it was NOT flattened. */
function unreadLines(us: UnreadFollower[], what: string): string {
  return us.map((u) => `❗ <b>${escapeHtml(u.followerId)}</b>: could not read its positions (${escapeHtml(u.error)}) — ${what}. Check it at the broker.`).join('\n');
}

/** Positions, resting exit orders and unread followers, as the halt alert and the flatten proposal list them. */
function readText(r: PositionsRead, unreadWhat: string): string {
  const parts = [positionLines(r.positions)];
  if (r.resting.length) parts.push(`Resting exit orders (SL/target copies, not counted as closing anything):\n${copyLines(r.resting)}`);
  if (r.unread.length) parts.push(unreadLines(r.unread, unreadWhat));
  return parts.join('\n');
}

/** Step one of flatten: list what would be closed, with a Flatten… button. */
async function proposeFlatten(ctx: BotContext, ids: string[] | 'all', d: CommandDeps): Promise<string> {
  const read = await d.control.openPositions(ids);
  const who = ids === 'all' ? 'any follower' : escapeHtml(ids.join(', '));
  if (read.positions.length === 0 && read.resting.length === 0) {
    const unread = read.unread.length ? `\n${unreadLines(read.unread, 'it was NOT flattened')}` : '';
    await replyHtml(ctx, `Nothing to flatten for ${who}${read.unread.length ? ' that could be read' : ''}: no open positions.${unread}`);
    return read.unread.length ? `nothing readable to flatten; unread ${read.unread.map((u) => u.followerId).join(',')}` : 'nothing to flatten';
  }
  const id = randomBytes(3).toString('hex');
  flattenRequests.set(id, { ids, by: ctx.from!.id, expiresAt: d.clock.now() + FLATTEN_TTL_MS });
  const cancelFirst = read.resting.length ? `\nThe ${read.resting.length} resting exit order(s) are cancelled first; above the freeze limit a position closes in slices.` : '';
  await replyHtml(
    ctx,
    `⚠️ <b>Flatten</b> ${ids === 'all' ? 'ALL followers' : escapeHtml(ids.join(', '))}: these positions would be closed with market orders:\n${readText(read, 'it will NOT be flattened')}${cancelFirst}\nStep 1 of 2. This request lapses in 2 minutes.`,
    { reply_markup: new InlineKeyboard().text(`Flatten ${read.positions.length} position(s)…`, `fl:${id}:1`).text('Cancel', `fl:${id}:n`) },
  );
  return `proposed ${read.positions.length}`;
}

/** The message after the second tap: orders sent, exits cancelled, what could not be done. */
function flattenDoneText(r: FlattenResult, by: number, now: number): string {
  const lines = [`🧹 Flatten sent by ${by} at ${istTime(now)} IST: ${r.placed.length} market order(s).`];
  if (r.placed.length) lines.push(r.placed.map((c) => `• ${escapeHtml(c.followerId)}: ${describeCopy(c)}`).join('\n'));
  if (r.cancelled.length) lines.push(`Resting exit orders cancelled first:\n${copyLines(r.cancelled)}`);
  if (r.notCancelled.length) lines.push(`❗ Could NOT cancel (still working at the broker — cancel it there, or it may open a position when it triggers):\n${copyLines(r.notCancelled)}`);
  if (r.unread.length) lines.push(unreadLines(r.unread, 'it was NOT flattened'));
  return lines.join('\n');
}

export const TRADING_COMMANDS: CommandSpec[] = [
  {
    name: 'halt',
    usage: '/halt',
    description: 'Kill switch: stop ALL copying (exits too) and cancel open copies',
    role: 'admin',
    async run(ctx, _args, d) {
      const { cancelled, open } = await d.control.halt(ctx.from?.id ?? null);
      const positions = [positionLines(open.positions), ...(open.unread.length ? [unreadLines(open.unread, 'its open positions are unknown')] : [])].join('\n');
      await replyHtml(
        ctx,
        `🛑 <b>HALTED</b> by ${ctx.from?.id} at ${istTime(d.clock.now())} IST. Nothing is copied now — <b>leader exits are NOT mirrored</b>. ${cancelled} open cop${cancelled === 1 ? 'y' : 'ies'} cancelled.\nOpen follower positions:\n${positions}\n/resume all to copy again.`,
        open.positions.length || open.unread.length ? { reply_markup: new InlineKeyboard().text('Flatten all…', 'fl:all:0') } : {},
      );
      return `halted, cancelled ${cancelled}`;
    },
  },
  {
    name: 'flatten',
    usage: '/flatten <id|all>',
    description: 'Close follower positions with market orders (asks twice)',
    role: 'admin',
    async run(ctx, args, d) {
      const arg = args[0]?.toLowerCase();
      if (!arg || (arg !== 'all' && !d.control.hasFollower(arg))) {
        await replyHtml(ctx, `Usage: /flatten &lt;id|all&gt;. Valid: all, ${d.control.followerIds.map(escapeHtml).join(', ')}.`);
        return 'bad argument';
      }
      return proposeFlatten(ctx, arg === 'all' ? 'all' : [arg], d);
    },
  },
  {
    name: 'positions',
    usage: '/positions [id]',
    description: 'Open positions per follower',
    role: 'viewer',
    async run(ctx, args, d) {
      const ids = args[0] ? [args[0].toLowerCase()] : d.control.followerIds;
      const bad = ids.find((id) => !d.control.hasFollower(id));
      if (bad) return replyHtml(ctx, unknownFollower(bad, d));
      const parts: string[] = [];
      for (const id of ids) {
        try {
          const ps = (await d.control.brokerPositions(id)).filter((p) => p.netQty !== 0);
          const rows = ps.map((p) => [p.instrument.symbol.slice(0, 22), formatNum(p.netQty), formatNum(Number(p.avgPrice.toFixed(2))), formatInr(p.realisedPnl + p.unrealisedPnl, true)]);
          parts.push(`<b>${escapeHtml(id)}</b>\n${rows.length ? `<pre>${escapeHtml(table(['SYMBOL', 'QTY', 'AVG', 'P&L'], rows))}</pre>` : 'flat'}`);
        } catch (e) {
          parts.push(`<b>${escapeHtml(id)}</b>: could not read positions: ${escapeHtml((e as Error).message)}`);
        }
      }
      await replyHtml(ctx, parts.join('\n\n'));
    },
  },
  {
    name: 'orders',
    usage: '/orders [id]',
    description: "Today's copies and their state",
    role: 'viewer',
    async run(ctx, args, d) {
      const id = args[0]?.toLowerCase() ?? null;
      if (id && !d.control.hasFollower(id)) return replyHtml(ctx, unknownFollower(id, d));
      const copies = d.control.copiesToday(id);
      if (copies.length === 0) return replyHtml(ctx, 'No copies today.');
      const rows = copies.map((c) => [istTime(c.createdAt).slice(0, 5), c.followerId, c.side, formatQty(c.plannedQty, c.lotSize), c.symbol.slice(0, 18), c.state]);
      // Why each copy is what it is: entry or exit, the numbers used, or the skip reason.
      const why = copies.filter((c) => c.reason).map((c) => `${istTime(c.createdAt).slice(0, 5)} ${escapeHtml(c.followerId)} ${c.kind} ${c.side} ${escapeHtml(c.symbol.slice(0, 18))}: ${escapeHtml(c.reason!.slice(0, 200))}`);
      await replyHtml(ctx, [`<b>Today's copies</b> (${copies.length})\n<pre>${escapeHtml(table(['TIME', 'ID', 'SIDE', 'QTY', 'SYMBOL', 'STATE'], rows))}</pre>`, ...(why.length ? [`<b>Why</b>\n${why.join('\n')}`] : [])].join('\n'));
    },
  },
  {
    name: 'pnl',
    usage: '/pnl [today|week]',
    description: 'P&L of the leader and each follower, with a chart',
    role: 'viewer',
    async run(ctx, args, d) {
      const period = (args[0] ?? 'today').toLowerCase();
      if (period !== 'today' && period !== 'week') return replyHtml(ctx, `“${escapeHtml(args[0]!)}” is not a period: use /pnl today or /pnl week.`);
      const now = d.clock.now();
      const since = period === 'today' ? istDayStart(now) : istDayStart(now) - 6 * 86_400_000;
      const rows = d.control.pnl(since);
      // Loaded at the first chart, not at start-up: the canvas and Chart.js hold ~25 MB (issue 16, RSS).
      const { pnlCaption, renderPnlChart } = await import('./chart-pnl.js');
      const { png } = renderPnlChart(period, rows, now);
      await ctx.replyWithPhoto(new InputFile(png, `pnl-${period}.png`), { caption: pnlCaption(period, rows, now), parse_mode: 'HTML' });
    },
  },
  {
    name: 'health',
    usage: '/health',
    description: 'Streams, sessions, alert queue, last DB write, latency',
    role: 'viewer',
    async run(ctx, _args, d) {
      const h = d.control.health();
      const now = d.clock.now();
      const lines = [
        `<b>Health</b> · ${istTime(now)} IST`,
        `Leader stream: ${h.leaderStream} for ${formatAge(now - h.leaderSince)} · last event ${h.lastLeaderEventAt ? `${formatAge(now - h.lastLeaderEventAt)} ago` : 'none yet'}`,
        ...h.followers.map((f) => `${escapeHtml(f.id)}: session ${f.sessionOk ? 'OK' : `EXPIRED (${escapeHtml(f.detail ?? '')})`} · queue ${f.queue}`),
        `Alert queue: ${d.alertQueueDepth()} · last DB write ${h.lastDbWrite ? `${formatAge(now - h.lastDbWrite)} ago` : 'none yet'}`,
      ];
      const lat = d.control.latency();
      if (lat.some((l) => l.internalP50 !== null)) {
        const us = (x: number | null) => (x === null ? '-' : x >= 1000 ? `${formatNum(Number((x / 1000).toFixed(1)))}ms` : `${x}µs`);
        lines.push(`<pre>${escapeHtml(table(['ID', 'OURS p50', 'p99', 'BROKER p50', 'p99'], lat.map((l) => [l.id, us(l.internalP50), us(l.internalP99), us(l.brokerP50), us(l.brokerP99)])))}</pre>`);
      }
      for (const extra of d.healthExtras()) lines.push(extra);
      await replyHtml(ctx, lines.join('\n'));
    },
  },
  {
    name: 'errors',
    usage: '/errors [n]',
    description: 'Recent errors, repeated ones counted',
    role: 'admin',
    async run(ctx, args, d) {
      const n = args[0] === undefined ? 10 : Number(args[0]);
      if (!Number.isInteger(n) || n < 1 || n > 50) return replyHtml(ctx, `“${escapeHtml(args[0]!)}” is not a count: send /errors or /errors &lt;1-50&gt;.`);
      const rows = d.store.outbox.recent(ctx.chat!.id, 1, 500);
      const groups = new Map<string, { text: string; count: number; last: number }>();
      for (const r of rows) {
        const key = r.text.replace(/\d+/g, '#');
        const g = groups.get(key);
        if (g) g.count += 1;
        else groups.set(key, { text: r.text, count: 1, last: r.createdAt });
      }
      const top = [...groups.values()].slice(0, n);
      if (top.length === 0) return replyHtml(ctx, 'No errors recorded. 🎉');
      await replyHtml(ctx, `<b>Recent errors</b>\n${top.map((g) => `• ${istTime(g.last)}${g.count > 1 ? ` ×${g.count}` : ''} ${g.text}`).join('\n')}`);
    },
  },
  {
    name: 'notify',
    usage: '/notify [group mode]',
    description: 'Which alerts you get: on, silent or off, per kind',
    role: 'viewer',
    async run(ctx, args, d) {
      const chatId = ctx.chat!.id;
      if (args.length === 2) {
        const err = d.notifyPrefs.set(chatId, args[0]!.toLowerCase(), args[1]!.toLowerCase(), ctx.from!.id);
        if (err) return replyHtml(ctx, `${escapeHtml(err)}\nUsage: /notify &lt;group&gt; &lt;on|silent|off&gt;, or /notify for buttons.`);
      } else if (args.length !== 0) {
        return replyHtml(ctx, `Usage: /notify, or /notify &lt;group&gt; &lt;on|silent|off&gt;. Groups: ${Object.keys(NOTIFY_GROUPS).join(', ')}.`);
      }
      await replyHtml(ctx, notifyText(d, chatId), { reply_markup: notifyKeyboard(d, chatId) });
      return args.join(' ') || 'shown';
    },
  },
];

function notifyText(d: CommandDeps, chatId: number): string {
  const prefs = d.notifyPrefs.get(chatId);
  const rows = (Object.keys(NOTIFY_GROUPS) as NotifyGroup[]).map((g) => [NOTIFY_GROUPS[g].label, prefs[g]]);
  return `<b>Your alerts</b> (approval requests are always on; errors can be silenced, never turned off)\n<pre>${escapeHtml(table(['KIND', 'MODE'], rows))}</pre>`;
}

function notifyKeyboard(d: CommandDeps, chatId: number): InlineKeyboard {
  const prefs = d.notifyPrefs.get(chatId);
  const kb = new InlineKeyboard();
  for (const g of Object.keys(NOTIFY_GROUPS) as NotifyGroup[]) {
    const modes: NotifyMode[] = NOTIFY_GROUPS[g].canOff ? ['on', 'silent', 'off'] : ['on', 'silent'];
    for (const m of modes) kb.text(`${prefs[g] === m ? '● ' : ''}${g} ${m}`, `nt:${g}:${m}`);
    kb.row();
  }
  return kb;
}

/** Buttons: flatten (two taps), halt → flatten all. Same auth as commands (the gate runs first). */
export function registerTradingCallbacks(bot: Bot<BotContext>, d: CommandDeps, audit: (ctx: BotContext, action: string, args: string, outcome: string) => void): void {
  bot.callbackQuery(/^nt:([a-z]+):([a-z]+)$/, async (ctx) => {
    const [, group = '', mode = ''] = ctx.match;
    const err = d.notifyPrefs.set(ctx.chat!.id, group, mode, ctx.from.id);
    await ctx.answerCallbackQuery(err ? { text: err, show_alert: true } : { text: `${group}: ${mode}` });
    audit(ctx, 'button notify', `${group} ${mode}`, err ?? 'set');
    if (!err) await ctx.editMessageText(notifyText(d, ctx.chat!.id), { parse_mode: 'HTML', reply_markup: notifyKeyboard(d, ctx.chat!.id) }).catch(() => {});
  });

  bot.callbackQuery(/^fl:([a-z0-9]+):([01yn])$/, async (ctx) => {
    const [, id = '', step] = ctx.match;
    if (ctx.role !== 'admin') {
      await ctx.answerCallbackQuery({ text: 'Flatten needs the admin role.', show_alert: true });
      audit(ctx, 'button flatten', `${id} ${step}`, 'denied: viewer');
      return;
    }
    if (id === 'all' && step === '0') {
      await ctx.answerCallbackQuery();
      const outcome = await proposeFlatten(ctx, 'all', d);
      audit(ctx, 'button flatten', 'all', outcome);
      return;
    }
    const req = flattenRequests.get(id);
    if (!req || req.expiresAt < d.clock.now()) {
      flattenRequests.delete(id);
      await ctx.answerCallbackQuery({ text: 'This flatten request has lapsed; send /flatten again.', show_alert: true });
      return;
    }
    if (step === 'n') {
      flattenRequests.delete(id);
      await ctx.answerCallbackQuery({ text: 'Cancelled: nothing closed.' });
      await ctx.editMessageText('Flatten cancelled: nothing was closed.').catch(() => {});
      audit(ctx, 'button flatten', `${id} cancel`, 'cancelled');
      return;
    }
    if (step === '1') {
      await ctx.answerCallbackQuery();
      const read = await d.control.openPositions(req.ids);
      await ctx.editMessageText(`⚠️ <b>Are you sure?</b> These positions are closed with market orders now, resting exit orders cancelled first:\n${readText(read, 'it will NOT be flattened')}\nStep 2 of 2.`, {
        parse_mode: 'HTML',
        reply_markup: new InlineKeyboard().text('Yes, flatten now', `fl:${id}:y`).text('Cancel', `fl:${id}:n`),
      });
      audit(ctx, 'button flatten', `${id} step1`, 'confirm asked');
      return;
    }
    // Step two: exactly one tap wins (the request is consumed here).
    if (!flattenRequests.delete(id)) {
      await ctx.answerCallbackQuery({ text: 'Already done.', show_alert: true });
      return;
    }
    await ctx.answerCallbackQuery({ text: 'Flattening…' });
    // Positions are read again now (and once more after the resting exits are cancelled): the
    // leader's own exits may have closed some since step one, and flattening a stale list would
    // open the opposite position.
    const r = await d.control.flatten(req.ids, ctx.from.id);
    if (r.placed.length === 0 && r.cancelled.length === 0 && r.notCancelled.length === 0) {
      const unread = r.unread.length ? `\n${unreadLines(r.unread, 'it was NOT flattened')}` : '';
      await ctx.editMessageText(`Nothing left to flatten: the positions were closed meanwhile.${unread}`, { parse_mode: 'HTML' }).catch(() => {});
      audit(ctx, 'button flatten', `${id} confirm`, r.unread.length ? `nothing left; unread ${r.unread.map((u) => u.followerId).join(',')}` : 'nothing left');
      return;
    }
    const placed = r.placed;
    await ctx.editMessageText(flattenDoneText(r, ctx.from.id, d.clock.now()), { parse_mode: 'HTML' }).catch(() => {});
    audit(ctx, 'button flatten', `${id} confirm`, `placed ${placed.length}`);
  });
}
