/** Replying with HTML that may be longer than one Telegram message. */
import type { BotContext } from './auth.js';
import type { CommandDeps } from './commands.js';
import { escapeHtml, splitMessage } from './format.js';

/** Send `html` as one or more messages (split at 4096); `extra` (e.g. buttons) goes on the last. */
export async function replyHtml(ctx: BotContext, html: string, extra: Record<string, unknown> = {}): Promise<void> {
  const parts = splitMessage(html, 4096 - 10);
  for (let i = 0; i < parts.length; i++) {
    const last = i === parts.length - 1;
    const text = i > 0 ? `(cont.)\n${parts[i]!}` : parts[i]!;
    await ctx.reply(text, { parse_mode: 'HTML', ...(last ? extra : {}) });
  }
}

/** A fixed-width table for a <pre> block: columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The one answer to a follower id that does not exist: what was sent, and what is valid. */
export function unknownFollower(arg: string, d: Pick<CommandDeps, 'control'>, all = false): string {
  return `Unknown follower “${escapeHtml(arg)}”. Valid: ${all ? 'all, ' : ''}${d.control.followerIds.map(escapeHtml).join(', ')}.`;
}
