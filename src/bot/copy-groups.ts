/**
 * One message per leader order and chat, sent when its first copy is reported and then edited in
 * place as each copy is placed, fills, is skipped or fails (see copy-lines.ts for the lines). The
 * first send goes through the outbox like any alert (so it survives a restart and waits out a
 * blocked chat); edits go through the MessageEditor (coalesced, flood limits obeyed). A message too
 * old to edit (48 h) or gone is replaced by a new one. Per chat, /notify decides which lines are
 * shown (a kind set to off leaves its lines out, and a message with no line left is not sent) and
 * whether the message makes a sound when it is sent (a line of a kind set to on is in it). Edits
 * never make a sound: what needs the owner also arrives as its own alert (see alerts.ts).
 */
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { Store } from '../store/index.js';
import { PRIORITY } from './alerts.js';
import { applyLine, groupText, KIND_OF_STATE, leaderLine, lineOf, type CopyEvent, type CopyLine } from './copy-lines.js';
import type { MessageEditor } from './message-editor.js';
import type { NotifyPrefs } from './notify-prefs.js';

/** The outbox kind of a group message. */
export const GROUP_KIND = 'copy_group';
/** Older messages are not edited: a new one takes over. */
export const EDITABLE_MS = 48 * 3600_000;
/** Groups not touched for this long are forgotten. */
const KEEP_MS = 7 * 24 * 3600_000;

export function isCopyEvent(e: { type: string }): e is CopyEvent {
  return e.type.startsWith('copy_');
}

export interface CopyGroupsDeps {
  store: Store;
  clock: Clock;
  chatIds: number[];
  prefs: NotifyPrefs;
  editor: MessageEditor;
  log: Logger;
  /** A new outbox row is waiting: start the chats' queues. */
  queued: () => void;
}

export class CopyGroups {
  constructor(private readonly d: CopyGroupsDeps) {}

  /** A copy event: its line moves forward (or the event is stale), and each chat's message follows. Call inside a transaction. */
  apply(e: CopyEvent, now: number): void {
    const repo = this.d.store.alertGroups;
    const leaderOrderId = e.copy.leaderOrderId;
    const lines = (repo.get(leaderOrderId)?.lines ?? []) as CopyLine[];
    const leader = e.type === 'copy_placed' && e.copy.state === 'filled' ? this.d.store.leader.get(leaderOrderId) : undefined;
    const next = applyLine(lines, lineOf(e, leader && leader.avgPrice > 0 ? leader.avgPrice : null));
    if (!next) return;
    repo.save(leaderOrderId, next, e.copy.lotSize, now);
    for (const chatId of this.d.chatIds) this.show(leaderOrderId, chatId, next, e.copy.lotSize, now, false);
  }

  /** The outbox delivered a group message: remember its id, and catch up with lines added meanwhile. */
  delivered(alertId: number, chatId: number, messageId: number, sentText: string): void {
    const repo = this.d.store.alertGroups;
    const row = repo.byAlert(alertId);
    if (!row) return;
    repo.delivered(alertId, messageId, this.d.clock.now(), sentText);
    this.d.editor.sent(chatId, messageId, sentText);
    if (row.text !== sentText) this.d.editor.set(chatId, messageId, row.text);
  }

  /** The message cannot be edited any more: the chat gets a new one with the latest lines. */
  gone(chatId: number, messageId: number): void {
    const row = this.d.store.alertGroups.byMessage(chatId, messageId);
    const group = row ? this.d.store.alertGroups.get(row.leaderOrderId) : undefined;
    if (!row || !group) return;
    const now = this.d.clock.now();
    this.d.store.tx(() => this.show(row.leaderOrderId, chatId, group.lines as CopyLine[], group.lotSize, now, true));
    this.d.queued();
  }

  /** At start: forget old groups, and make the edits a stop left waiting. */
  resume(): void {
    const now = this.d.clock.now();
    this.d.store.alertGroups.prune(now - KEEP_MS);
    for (const r of this.d.store.alertGroups.unsettled(now - EDITABLE_MS)) {
      if (r.messageId !== null && this.d.chatIds.includes(r.chatId)) this.d.editor.set(r.chatId, r.messageId, r.text);
    }
  }

  private show(leaderOrderId: string, chatId: number, lines: CopyLine[], lotSize: number, now: number, replace: boolean): void {
    const modeOf = this.d.prefs.modesFor(chatId);
    const visible = lines.filter((l) => modeOf(KIND_OF_STATE[l.state]) !== 'off');
    if (visible.length === 0) return;
    const text = groupText(leaderLine(leaderOrderId, this.d.store.leader.get(leaderOrderId), lotSize), visible);
    const repo = this.d.store.alertGroups;
    const row = replace ? undefined : repo.message(leaderOrderId, chatId);
    if (row?.alertId != null) {
      // Not sent yet: it goes as it was when the copies went out, and is edited once delivered.
      repo.setText(leaderOrderId, chatId, text, now);
    } else if (row?.messageId != null && row.sentAt !== null && now - row.sentAt < EDITABLE_MS) {
      repo.setText(leaderOrderId, chatId, text, now);
      if (text !== row.shownText) this.d.editor.set(chatId, row.messageId, text);
    } else {
      const loud = visible.some((l) => loudLine(l, modeOf));
      const alertId = this.d.store.outbox.enqueue({ chatId, priority: loud ? PRIORITY.fill : PRIORITY.info, kind: GROUP_KIND, text, createdAt: now });
      repo.queued(leaderOrderId, chatId, alertId, text, now);
    }
  }
}

/**
 * Whether a line makes the message it is sent in sound. Edits never make a sound, so a copy
 * still working counts as the fill it is waiting for: with fills on, the order's message sounds
 * when it is sent, and the fill that follows edits it silently.
 */
function loudLine(l: CopyLine, modeOf: (kind: string) => string): boolean {
  if (l.state === 'placed' || l.state === 'partial') return modeOf('copy_placed') === 'on' || modeOf('copy_filled') === 'on';
  return modeOf(KIND_OF_STATE[l.state]) === 'on';
}
