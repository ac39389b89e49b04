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
import type { LeaderOrderRow } from '../store/leader-repo.js';
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

/** A chat's message of a group as one flush sees it (and what it will write back). */
interface MessageState {
  leaderOrderId: string;
  chatId: number;
  alertId: number | null;
  messageId: number | null;
  sentAt: number | null;
  shownText: string | null;
  text: string;
  /** The text changed in this turn: written once, at its end. */
  dirty: boolean;
}

/**
 * What one flush of events has read and will write: each group, each chat's message and each
 * leader order is read once per flush, and each group and message written once at its end, however
 * many copy events of the same leader order the flush carries (with 20 followers a leader order
 * brought 20 reads and 20 writes of the same growing row). The outbox row of a first message is
 * still written at the event that sends it, so what each chat is sent, and in which order, is as
 * it was event by event.
 */
interface Turn {
  groups: Map<string, { lines: CopyLine[]; lotSize: number; dirty: boolean } | null>;
  messages: Map<string, MessageState | null>;
  leaders: Map<string, LeaderOrderRow | undefined>;
  /** Edits of messages already sent, made once the turn is committed (never a text the store may not keep). */
  edits: Map<string, { chatId: number; messageId: number; text: string }>;
}

export class CopyGroups {
  private turn: Turn | null = null;

  constructor(private readonly d: CopyGroupsDeps) {}

  /**
   * Runs `fn` (which calls apply, and may write more) as one turn in one transaction: reads are
   * shared, the groups and messages it changed are written when it returns, and the edits it asked
   * for are made once that is committed. Inside a turn already, `fn` joins it.
   */
  inTurn(now: number, fn: () => void): void {
    if (this.turn) return fn();
    const t: Turn = { groups: new Map(), messages: new Map(), leaders: new Map(), edits: new Map() };
    this.turn = t;
    try {
      this.d.store.tx(() => {
        fn();
        const repo = this.d.store.alertGroups;
        for (const [leaderOrderId, g] of t.groups) if (g?.dirty) repo.save(leaderOrderId, g.lines, g.lotSize, now);
        for (const m of t.messages.values()) if (m?.dirty) repo.setText(m.leaderOrderId, m.chatId, m.text, now);
      });
    } finally {
      this.turn = null;
    }
    for (const e of t.edits.values()) this.d.editor.set(e.chatId, e.messageId, e.text);
  }

  /** A copy event: its line moves forward (or the event is stale), and each chat's message follows. */
  apply(e: CopyEvent, now: number): void {
    this.inTurn(now, () => {
      const t = this.turn!;
      const leaderOrderId = e.copy.leaderOrderId;
      const lines = this.groupOf(t, leaderOrderId)?.lines ?? [];
      const leader = e.type === 'copy_placed' && e.copy.state === 'filled' ? this.leaderOf(t, leaderOrderId) : undefined;
      const next = applyLine(lines, lineOf(e, leader && leader.avgPrice > 0 ? leader.avgPrice : null));
      if (!next) return;
      t.groups.set(leaderOrderId, { lines: next, lotSize: e.copy.lotSize, dirty: true });
      for (const chatId of this.d.chatIds) this.show(t, leaderOrderId, chatId, next, e.copy.lotSize, now, false);
    });
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
    this.inTurn(now, () => this.show(this.turn!, row.leaderOrderId, chatId, group.lines as CopyLine[], group.lotSize, now, true));
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

  private groupOf(t: Turn, leaderOrderId: string): { lines: CopyLine[]; lotSize: number; dirty: boolean } | null {
    let g = t.groups.get(leaderOrderId);
    if (g === undefined) {
      const row = this.d.store.alertGroups.get(leaderOrderId);
      g = row ? { lines: row.lines as CopyLine[], lotSize: row.lotSize, dirty: false } : null;
      t.groups.set(leaderOrderId, g);
    }
    return g;
  }

  private leaderOf(t: Turn, leaderOrderId: string): LeaderOrderRow | undefined {
    if (!t.leaders.has(leaderOrderId)) t.leaders.set(leaderOrderId, this.d.store.leader.get(leaderOrderId));
    return t.leaders.get(leaderOrderId);
  }

  private messageOf(t: Turn, leaderOrderId: string, chatId: number): MessageState | null {
    const key = `${chatId}|${leaderOrderId}`;
    let m = t.messages.get(key);
    if (m === undefined) {
      const row = this.d.store.alertGroups.message(leaderOrderId, chatId);
      m = row ? { leaderOrderId, chatId, alertId: row.alertId, messageId: row.messageId, sentAt: row.sentAt, shownText: row.shownText, text: row.text, dirty: false } : null;
      t.messages.set(key, m);
    }
    return m;
  }

  private show(t: Turn, leaderOrderId: string, chatId: number, lines: CopyLine[], lotSize: number, now: number, replace: boolean): void {
    const modeOf = this.d.prefs.modesFor(chatId);
    const visible = lines.filter((l) => modeOf(KIND_OF_STATE[l.state]) !== 'off');
    if (visible.length === 0) return;
    const text = groupText(leaderLine(leaderOrderId, this.leaderOf(t, leaderOrderId), lotSize), visible);
    const m = replace ? null : this.messageOf(t, leaderOrderId, chatId);
    if (m?.alertId != null) {
      // Not sent yet: it goes as it was when the copies went out, and is edited once delivered.
      m.text = text;
      m.dirty = true;
    } else if (m?.messageId != null && m.sentAt !== null && now - m.sentAt < EDITABLE_MS) {
      m.text = text;
      m.dirty = true;
      if (text !== m.shownText) t.edits.set(`${chatId}|${m.messageId}`, { chatId, messageId: m.messageId, text });
    } else {
      const loud = visible.some((l) => loudLine(l, modeOf));
      const alertId = this.d.store.outbox.enqueue({ chatId, priority: loud ? PRIORITY.fill : PRIORITY.info, kind: GROUP_KIND, text, createdAt: now });
      this.d.store.alertGroups.queued(leaderOrderId, chatId, alertId, text, now);
      t.messages.set(`${chatId}|${leaderOrderId}`, { leaderOrderId, chatId, alertId, messageId: null, sentAt: null, shownText: null, text, dirty: false });
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
