/**
 * The command registry: one list drives the handlers, /help and setMyCommands, so they cannot
 * drift. Every bad argument gets a reply saying what is wrong and what is valid.
 */
import type { Control, Target } from '../engine/control.js';
import { RATIO_MAX } from '../config.js';
import type { Clock } from '../infra/clock.js';
import type { Store } from '../store/index.js';
import { istTime } from '../domain/time.js';
import type { BotContext, Role } from './auth.js';
import { escapeHtml, formatNum } from './format.js';
import { describeCopy, ratioExample, statusKeyboard, statusText } from './views.js';
import { replyHtml, unknownFollower } from './reply.js';
import type { NotifyPrefs } from './notify-prefs.js';
import { TRADING_COMMANDS } from './trading-commands.js';
import { TOKEN_COMMANDS } from './token-commands.js';
import type { SessionManager } from '../engine/sessions.js';
import type { DriftWatch } from '../engine/drift.js';
import { DRIFT_COMMANDS, driftStatusLine } from './drift-commands.js';
import { RULES_COMMANDS, type RulesDeps } from './rules-commands.js';
import { InlineKeyboard } from 'grammy';

export interface CommandDeps {
  control: Control;
  store: Store;
  clock: Clock;
  /** Alerts waiting to be delivered (for /health). */
  alertQueueDepth: () => number;
  /** Extra /health lines from other parts (token sessions, scheduled jobs). */
  healthExtras: () => string[];
  /** Per-chat notification preferences (/notify). */
  notifyPrefs: NotifyPrefs;
  /** Broker logins (/login, /token); absent = no account needs one. */
  sessions?: SessionManager;
  /** The drift watch (/drift, the Sync button, the /status line). */
  drift?: DriftWatch;
  /** Each follower's own rules (/rules); absent = not shown. */
  rules?: RulesDeps;
}

export interface CommandSpec {
  name: string;
  usage: string;
  description: string;
  role: Role;
  /** What the audit log records instead of the raw arguments (a command that carries a secret). */
  redactArgs?: (args: string[]) => string;
  run(ctx: BotContext, args: string[], d: CommandDeps): Promise<string | void>;
}

const reply = replyHtml;

/** The reply once a ratio is set. */
export function ratioChanged(id: string, r: { old: number; next: number }): string {
  return `Ratio for <b>${escapeHtml(id)}</b>: ×${formatNum(r.old)} → ×${formatNum(r.next)}.\n${ratioExample(r.old, r.next)}\nApplies from the next leader order; open positions are not resized.`;
}

/** Token state per live account for /status: OK, EXPIRING (dies before the close), EXPIRED, MISSING. */
export function tokenStates(d: CommandDeps): Map<string, string> {
  return new Map((d.sessions?.status() ?? []).map((s) => [s.accountId, s.state.toUpperCase()]));
}

/** Parse `[id|all]`; a reply explaining the choices when it is neither. */
function parseTarget(arg: string | undefined, d: CommandDeps): Target | { error: string } {
  if (!arg || arg.toLowerCase() === 'all') return { kind: 'all' };
  const id = arg.toLowerCase();
  if (d.control.hasFollower(id)) return { kind: 'follower', id };
  return { error: unknownFollower(arg, d, true) };
}


const targetName = (t: Target) => (t.kind === 'all' ? 'ALL followers' : t.id);

export const COMMANDS: CommandSpec[] = [
  {
    name: 'status',
    usage: '/status',
    description: 'Engine, leader feed and followers at a glance',
    role: 'viewer',
    async run(ctx, _args, d) {
      const v = d.control.status();
      await reply(ctx, statusText(v, d.clock.now(), d.control.pnlToday(), tokenStates(d), driftStatusLine(d)), { reply_markup: statusKeyboard(v) });
    },
  },
  {
    name: 'pause',
    usage: '/pause [id|all]',
    description: 'Stop copying new entries (exits still mirrored)',
    role: 'admin',
    async run(ctx, args, d) {
      const t = parseTarget(args[0], d);
      if ('error' in t) return reply(ctx, `${t.error}\nUsage: /pause [id|all]`);
      d.control.pause(t, ctx.from?.id ?? null);
      await reply(
        ctx,
        `⏸ Paused entries for <b>${escapeHtml(targetName(t))}</b> by ${ctx.from?.id} at ${istTime(d.clock.now())} IST.\nExits are still mirrored. /resume to restart.`,
      );
      return targetName(t);
    },
  },
  {
    name: 'resume',
    usage: '/resume [id|all]',
    description: 'Copy entries again',
    role: 'admin',
    async run(ctx, args, d) {
      const t = parseTarget(args[0], d);
      if ('error' in t) return reply(ctx, `${t.error}\nUsage: /resume [id|all]`);
      if (d.control.halted) {
        if (t.kind !== 'all') return reply(ctx, 'The engine is HALTED: only /resume all lifts a halt (it asks you to confirm).');
        await reply(ctx, '🛑 The engine is halted. Lift the halt and copy again — entries and exits — from the next leader order?', {
          reply_markup: new InlineKeyboard().text('Yes, resume copying', 'hr:y').text('Stay halted', 'hr:n'),
        });
        return 'halt: confirmation asked';
      }
      const skipped = d.control.resume(t, ctx.from?.id ?? null);
      const lines = [`▶️ Resumed entries for <b>${escapeHtml(targetName(t))}</b> at ${istTime(d.clock.now())} IST.`];
      if (skipped.length) {
        lines.push(`Skipped while paused — these will <b>not</b> be back-filled:`);
        for (const c of skipped.slice(0, 20)) lines.push(`• ${escapeHtml(c.followerId)}: ${describeCopy(c)} (leader ${escapeHtml(c.leaderOrderId)})`);
        if (skipped.length > 20) lines.push(`… and ${skipped.length - 20} more`);
      } else {
        lines.push('No leader entries were skipped while paused.');
      }
      await reply(ctx, lines.join('\n'));
      return targetName(t);
    },
  },
  {
    name: 'ratio',
    usage: '/ratio [id] <x>',
    description: `Show or set a follower's copy ratio (0 < x ≤ ${RATIO_MAX})`,
    role: 'admin',
    async run(ctx, args, d) {
      const ids = d.control.followerIds;
      if (args.length === 0) {
        const lines = ids.map((id) => `${escapeHtml(id)}: ×${formatNum(d.control.ratioOf(id))}`);
        return reply(ctx, `Copy ratios:\n${lines.join('\n')}\nSet one with /ratio [id] &lt;x&gt;, 0 &lt; x ≤ ${RATIO_MAX}.`);
      }
      let id: string;
      let raw: string;
      if (args.length === 1) {
        if (ids.length !== 1) return reply(ctx, `Which follower? Usage: /ratio &lt;id&gt; &lt;x&gt;. Valid ids: ${ids.map(escapeHtml).join(', ')}.`);
        id = ids[0]!;
        raw = args[0]!;
      } else {
        id = args[0]!.toLowerCase();
        raw = args[1]!;
        if (!d.control.hasFollower(id)) return reply(ctx, unknownFollower(args[0]!, d));
      }
      const x = Number(raw);
      if (!/^\d*\.?\d+$/.test(raw) || !(x > 0 && x <= RATIO_MAX)) {
        return reply(ctx, `“${escapeHtml(raw)}” is not a valid ratio: send a number greater than 0 and at most ${RATIO_MAX}, e.g. /ratio ${escapeHtml(id)} 0.5`);
      }
      const current = d.control.ratioOf(id);
      if (x > 2 * current) {
        // More than doubling the risk: say what it means and ask first.
        await reply(
          ctx,
          `⚠️ Ratio for <b>${escapeHtml(id)}</b>: ×${formatNum(current)} → ×${formatNum(x)} more than doubles its size.\n${ratioExample(current, x)}\nApply it?`,
          { reply_markup: new InlineKeyboard().text(`Yes, set ×${formatNum(x)}`, `rt:${id}:${x}`).text('Cancel', 'rt:-:0') },
        );
        return `${id} ${current}->${x}: confirmation asked`;
      }
      await reply(ctx, ratioChanged(id, d.control.setRatio(id, x, ctx.from?.id ?? null)));
      return `${id} ${current}->${x}`;
    },
  },
  {
    name: 'approvals',
    usage: '/approvals',
    description: 'Large orders waiting for your tap, with time left',
    role: 'viewer',
    async run(ctx, _args, d) {
      const pending = d.control.pendingApprovals();
      if (pending.length === 0) return reply(ctx, 'No approvals pending.');
      const now = d.clock.now();
      const lines = pending.map(({ approval: a, copies }) => {
        const left = Math.max(0, Math.round((a.expiresAt - now) / 1000));
        const what = copies.map((c) => `${escapeHtml(c.followerId)} ${describeCopy(c)}`).join('; ');
        return `• ${a.id} · ${left} s left · ${what}`;
      });
      await reply(ctx, `<b>Pending approvals</b>\n${lines.join('\n')}\nTap Approve or Reject on each request's message.`);
    },
  },
  ...TRADING_COMMANDS,
  ...DRIFT_COMMANDS,
  ...RULES_COMMANDS,
  ...TOKEN_COMMANDS,
  {
    name: 'help',
    usage: '/help',
    description: 'What each command does',
    role: 'viewer',
    async run(ctx) {
      const mine = COMMANDS.filter((c) => c.role === 'viewer' || ctx.role === 'admin');
      const lines = mine.map((c) => `${escapeHtml(c.usage)} — ${escapeHtml(c.description)}`);
      lines.push('/whoami — your Telegram ids');
      await reply(ctx, `<b>tandem commands</b>\n${lines.join('\n')}`);
    },
  },
];
