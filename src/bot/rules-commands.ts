/**
 * /rules (issue 17): each follower's own rules, where each value came from (env or chat), the
 * entry window, square-off time and today's loss-limit headroom; an admin sets one rule, validated
 * with the same words as the config (domain/rules.ts RULE_SPECS), or resets it to the env value.
 * Audit-logged by the bot like every command (the outcome string returned here).
 */
import { parseRule, RULE_NAMES, RULE_SPECS, ruleByChatName, type RuleName, type RuleSpec } from '../domain/rules.js';
import type { FollowerRulesBook } from '../engine/follower-rules.js';
import type { LossStatus } from '../engine/loss-guard.js';
import type { CommandSpec } from './commands.js';
import { escapeHtml, formatAge, formatInr } from './format.js';
import { replyHtml, unknownFollower } from './reply.js';

/** What /rules reads: the rules book, the loss guard, and the day's times from the config. */
export interface RulesDeps {
  book: FollowerRulesBook;
  lossGuard: () => { status(followerId: string): LossStatus | null } | null;
  entryWindow: { from: string | null; until: string | null };
  squareOffAt: string | null;
}

const USAGE = '/rules [id] · /rules &lt;id&gt; &lt;rule&gt; &lt;value|reset&gt;';

const show = (name: RuleName, v: unknown) => (RULE_SPECS[name] as RuleSpec).show(v as never);
const ruleList = () => RULE_NAMES.map((n) => RULE_SPECS[n].chat).join(', ');

/** Today's loss-limit line: P&L, headroom in ₹, how fresh the mark is, and whether entries are stopped. */
export function lossLine(s: LossStatus | null | undefined, guardRunning: boolean): string {
  if (!guardRunning) return 'Loss limit today: not evaluated (the loss guard is not running)';
  if (!s) return 'Loss limit today: none set';
  const parts = [`limit ${formatInr(s.limitInr, true)}`];
  parts.push(s.pnlInr === null ? 'P&amp;L unknown' : `P&amp;L ${formatInr(s.pnlInr, true)}`);
  parts.push(s.headroomInr === null ? 'headroom unknown' : `headroom ${formatInr(s.headroomInr, true)}`);
  parts.push(s.markAgeMs === null ? 'no price mark yet' : `mark ${formatAge(s.markAgeMs)} old`);
  const head = `Loss limit today: ${parts.join(' · ')}`;
  return s.stopped ? `${head}\n⛔ Entries stopped: ${escapeHtml(s.why ?? 'loss limit')}` : head;
}

/** Every rule of one follower, with its value and source, and the day's times and loss headroom. */
export function rulesText(r: RulesDeps, id: string): string {
  const rules = r.book.get(id);
  const lines = [`<b>Rules of ${escapeHtml(id)}</b>`];
  for (const name of RULE_NAMES) lines.push(`${RULE_SPECS[name].chat}: <b>${escapeHtml(show(name, rules[name]))}</b> (${r.book.source(id, name)})`);
  const { from, until } = r.entryWindow;
  lines.push(`Entry window: ${from === null && until === null ? 'all day' : `${from ?? 'open'}–${until ?? 'close'} IST`} (COPY_ENTRIES_FROM/UNTIL, all followers)`);
  lines.push(`Square-off: ${r.squareOffAt ? `${r.squareOffAt} IST` : 'none'} (SQUARE_OFF_AT)`);
  const guard = r.lossGuard();
  lines.push(lossLine(guard?.status(id), guard !== null));
  return lines.join('\n');
}

export const RULES_COMMANDS: CommandSpec[] = [
  {
    name: 'rules',
    usage: '/rules [id] [rule value|reset]',
    description: "A follower's own rules (env or chat) and today's loss headroom; admins set one, or reset it to the env value",
    role: 'viewer',
    async run(ctx, args, d) {
      const r = d.rules;
      if (!r) return replyHtml(ctx, 'Per-follower rules are not available here.');
      if (args.length === 0) {
        await replyHtml(ctx, [...r.book.ids().map((id) => rulesText(r, id)), `Set one: ${USAGE}`].join('\n\n'));
        return 'shown';
      }
      const id = args[0]!.toLowerCase();
      if (!r.book.has(id)) return replyHtml(ctx, `${unknownFollower(args[0]!, d)}\nUsage: ${USAGE}`);
      if (args.length === 1) {
        await replyHtml(ctx, `${rulesText(r, id)}\n\nSet one: /rules ${escapeHtml(id)} &lt;rule&gt; &lt;value|reset&gt;`);
        return `${id} shown`;
      }
      if (ctx.role !== 'admin') {
        await replyHtml(ctx, 'Changing a rule needs the admin role; you are a viewer.');
        return 'denied: viewer';
      }
      return setRule(ctx, r, id, args[1]!, args.slice(2).join(' '));
    },
  },
];

async function setRule(ctx: Parameters<CommandSpec['run']>[0], r: RulesDeps, id: string, ruleArg: string, raw: string): Promise<string | void> {
  const name = ruleByChatName(ruleArg);
  if (!name) {
    await replyHtml(ctx, `Unknown rule “${escapeHtml(ruleArg)}”. Rules: ${ruleList()}.`);
    return `${id} ${ruleArg}: unknown rule`;
  }
  const spec = RULE_SPECS[name] as RuleSpec;
  if (!raw) {
    await replyHtml(ctx, `Which value? /rules ${escapeHtml(id)} ${spec.chat} &lt;value|reset&gt;: ${escapeHtml(spec.accepted)}.`);
    return `${id} ${spec.chat}: no value`;
  }
  if (raw.trim().toLowerCase() === 'reset') {
    const c = r.book.reset(id, name, ctx.from?.id ?? null);
    await replyHtml(ctx, `${escapeHtml(id)} ${spec.chat}: ${escapeHtml(spec.show(c.before as never))} → <b>${escapeHtml(spec.show(c.after as never))}</b> (back to the env value).\n${appliesFrom(name)}`);
    return `${id} ${spec.chat}: ${spec.show(c.before as never)} -> ${spec.show(c.after as never)} (reset to env)`;
  }
  const p = parseRule(name, raw);
  if (!p.ok) {
    await replyHtml(ctx, `${escapeHtml(spec.chat)} “${escapeHtml(raw)}” is invalid: ${escapeHtml(p.accepted)}. Not changed.`);
    return `${id} ${spec.chat} ${raw}: invalid`;
  }
  const c = r.book.set(id, name, p.value, ctx.from?.id ?? null);
  await replyHtml(ctx, `${escapeHtml(id)} ${spec.chat}: ${escapeHtml(spec.show(c.before as never))} → <b>${escapeHtml(spec.show(c.after as never))}</b> (set from the chat; /rules ${escapeHtml(id)} ${spec.chat} reset returns to the env value).\n${appliesFrom(name)}`);
  return `${id} ${spec.chat}: ${spec.show(c.before as never)} -> ${spec.show(c.after as never)}`;
}

/** When a changed rule takes effect. */
function appliesFrom(name: RuleName): string {
  switch (name) {
    case 'product':
      return 'Applies to entries from the next leader order; exits keep selling what is held, in the product it is held in.';
    case 'maxDailyLossInr':
    case 'onMaxLoss':
      return "Applies to today's loss limit from now on.";
    case 'unfilledAfterS':
    case 'unfilled':
      return 'Applies to copies left unfilled from now on.';
    default:
      return 'Applies to entries from the next leader order; exits are never held up by a rule.';
  }
}
