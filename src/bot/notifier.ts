/**
 * Alerts that always arrive: every engine event worth telling becomes a row in the SQLite outbox
 * (written off the hot path, on the next turn of the event loop), and one sender delivers the
 * outbox in priority order to each admin's chat — 429s are waited out by auto-retry, an HTML
 * parse error falls back to plain text, other failures are retried with backoff. A restart
 * loses nothing: undelivered rows are sent on the next start.
 */
import { GrammyError } from 'grammy';
import type { EngineEvent, EngineEvents } from '../engine/events.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { AlertRow, Store } from '../store/index.js';
import { alertOf, decisionLine, PRIORITY, type Alert } from './alerts.js';
import { htmlToPlain, splitMessage } from './format.js';
import { NotifyPrefs } from './notify-prefs.js';

/** Sends one message; resolves with its message id. */
export type SendFn = (chatId: number, text: string, opts: { html: boolean; silent: boolean; markup?: unknown }) => Promise<number>;
/** Replaces a message's text (and removes its buttons). */
export type EditFn = (chatId: number, messageId: number, html: string) => Promise<void>;

const MAX_ATTEMPTS = 20;
/** This many informational alerts waiting for one chat are sent as one message. */
const COALESCE_AT = 8;

export class Notifier implements EngineEvents {
  private pending: EngineEvent[] = [];
  private flushScheduled = false;
  private sending: Promise<void> | null = null;
  private again = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly downSince = new Map<string, number>();
  /** Fill messages per leader order: one message per chat, edited as more followers fill. */
  private readonly fillGroups = new Map<string, { lines: string[]; text: string; chats: Map<number, { alertId: number; messageId?: number; sentText?: string }> }>();
  private readonly fillGroupOfAlert = new Map<number, string>();
  readonly prefs: NotifyPrefs;
  private send: SendFn | null = null;
  private edit: EditFn | null = null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly chatIds: number[],
    private readonly log: Logger,
  ) {
    this.prefs = new NotifyPrefs(store, clock);
  }

  /** Connect the delivery function (the bot) and deliver whatever is waiting. */
  attach(send: SendFn, edit: EditFn): void {
    this.send = send;
    this.edit = edit;
    this.kick();
  }

  emit(event: EngineEvent): void {
    const e = this.debounceStream(event);
    if (!e) return;
    if (e.type === 'error' || e.type === 'session_expired' || e.type === 'copy_failed') {
      this.log.warn({ event: e.type, account: 'accountId' in e ? e.accountId : e.copy.followerId }, 'alert');
    }
    this.pending.push(e);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /**
   * One alert when a stream goes down, one when it recovers (with how long it was down); flapping
   * and the first connect at start-up say nothing more.
   */
  private debounceStream(e: EngineEvent): EngineEvent | null {
    if (e.type !== 'stream') return e;
    const since = this.downSince.get(e.accountId);
    if (e.state === 'disconnected') {
      if (since !== undefined) return null;
      this.downSince.set(e.accountId, this.clock.now());
      return e;
    }
    if (e.state === 'connected') {
      if (since === undefined) return null;
      this.downSince.delete(e.accountId);
      return { ...e, downForMs: this.clock.now() - since };
    }
    return e;
  }

  private groupFill(leaderOrderId: string, a: Alert, now: number): void {
    let g = this.fillGroups.get(leaderOrderId);
    if (!g) {
      g = { lines: [], text: '', chats: new Map() };
      this.fillGroups.set(leaderOrderId, g);
      if (this.fillGroups.size > 500) this.fillGroups.delete(this.fillGroups.keys().next().value!);
    }
    g.lines.push(a.text);
    g.text = g.lines.length === 1 ? a.text : `💰 Fills for leader order ${leaderOrderId} (${g.lines.length}):\n${g.lines.join('\n')}`;
    for (const chatId of this.chatIds) {
      const mode = this.prefs.modeFor(chatId, a.kind);
      if (mode === 'off') continue;
      const ref = g.chats.get(chatId);
      if (!ref) {
        const priority = mode === 'silent' ? PRIORITY.info : a.priority;
        const alertId = this.store.outbox.enqueue({ chatId, priority, kind: a.kind, text: g.text, createdAt: now });
        g.chats.set(chatId, { alertId });
        this.fillGroupOfAlert.set(alertId, leaderOrderId);
      } else if (ref.messageId !== undefined) {
        void this.editFill(chatId, ref, g.text);
      } else {
        this.store.outbox.updateText(ref.alertId, g.text);
      }
    }
  }

  private async editFill(chatId: number, ref: { messageId?: number; sentText?: string }, text: string): Promise<void> {
    if (!this.edit || ref.messageId === undefined || ref.sentText === text) return;
    ref.sentText = text;
    await this.edit(chatId, ref.messageId, text).catch((e: unknown) => this.log.warn({ err: (e as Error).message }, 'could not edit the fill message'));
  }

  /** A fill message was delivered: remember its id, and catch up with lines added meanwhile. */
  private fillDelivered(alertId: number, chatId: number, messageId: number, sentText: string): void {
    const key = this.fillGroupOfAlert.get(alertId);
    const g = key ? this.fillGroups.get(key) : undefined;
    const ref = g?.chats.get(chatId);
    if (!g || !ref) return;
    this.fillGroupOfAlert.delete(alertId);
    ref.messageId = messageId;
    ref.sentText = sentText;
    if (g.text !== sentText) void this.editFill(chatId, ref, g.text);
  }

  /** Write queued events to the outbox. */
  flush(): void {
    this.flushScheduled = false;
    const events = this.pending.splice(0);
    if (events.length === 0) return;
    const now = this.clock.now();
    this.store.tx(() => {
      for (const e of events) {
        const a = alertOf(e, now);
        if (a && e.type === 'copy_filled') this.groupFill(e.copy.leaderOrderId, a, now);
        else if (a) {
          const markup = a.markup ? JSON.stringify(a.markup) : null;
          for (const chatId of this.chatIds) {
            // Each chat's /notify choice: off drops it, silent delivers it without a sound.
            const mode = this.prefs.modeFor(chatId, a.kind);
            if (mode === 'off') continue;
            const priority = mode === 'silent' ? Math.max(a.priority, PRIORITY.info) : a.priority;
            this.store.outbox.enqueue({ chatId, priority, kind: a.kind, text: a.text, markup, approvalId: a.approvalId ?? null, createdAt: now });
          }
        }
      }
    });
    for (const e of events) if (e.type === 'approval_decided') void this.showDecision(e.approval.id);
    this.kick();
  }

  get depth(): number {
    return this.store.outbox.depth() + this.pending.length;
  }

  private kick(): void {
    if (!this.send || this.stopped) return;
    if (this.sending) {
      this.again = true;
      return;
    }
    this.sending = this.deliver().finally(() => {
      this.sending = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async deliver(): Promise<void> {
    for (;;) {
      const batch = this.coalesce(this.store.outbox.pending(50));
      if (batch.length === 0 || this.stopped) return;
      for (const a of batch) {
        if (this.stopped) return;
        const ok = await this.deliverOne(a);
        if (!ok) {
          this.scheduleRetry(a.attempts + 1);
          return;
        }
      }
    }
  }

  /**
   * A backlog of low-priority (silent, informational) alerts for one chat is folded into one
   * message: the rows are marked delivered and a combined row takes their place. Approvals, errors
   * and fills are never folded.
   */
  private coalesce(batch: AlertRow[]): AlertRow[] {
    const low = new Map<number, AlertRow[]>();
    for (const a of batch) if (a.priority >= PRIORITY.info && !a.markup) low.set(a.chatId, [...(low.get(a.chatId) ?? []), a]);
    let out = batch;
    for (const [chatId, rows] of low) {
      if (rows.length < COALESCE_AT) continue;
      const now = this.clock.now();
      const text = `📦 ${rows.length} updates while alerts were queued:\n${rows.map((r) => r.text).join('\n')}`;
      let id = 0;
      this.store.tx(() => {
        for (const r of rows) this.store.outbox.markSent(r.id, now);
        id = this.store.outbox.enqueue({ chatId, priority: PRIORITY.info, kind: 'backlog', text, createdAt: now });
      });
      const merged = this.store.outbox.pending(500).find((r) => r.id === id);
      const drop = new Set(rows.map((r) => r.id));
      out = [...out.filter((r) => !drop.has(r.id)), ...(merged ? [merged] : [])];
    }
    return out;
  }

  private async deliverOne(a: AlertRow): Promise<boolean> {
    const send = this.send;
    if (!send) return false;
    const silent = a.priority >= PRIORITY.info;
    let text = a.text;
    let markup: unknown = a.markup ? JSON.parse(a.markup) : undefined;
    const approval = a.approvalId ? this.store.approvals.get(a.approvalId) : undefined;
    if (approval && approval.state !== 'pending') {
      // Decided before its request could be shown: show it decided, with no live buttons.
      text = `${text}\n\n${decisionLine(approval, this.store.copies.forApproval(approval.id))}`;
      markup = undefined;
    }
    try {
      for (const part of splitMessage(text)) {
        let messageId: number;
        try {
          messageId = await send(a.chatId, part, { html: true, silent, markup });
        } catch (e) {
          if (e instanceof GrammyError && /can't parse entities/i.test(e.description)) {
            messageId = await send(a.chatId, htmlToPlain(part), { html: false, silent, markup });
          } else throw e;
        }
        if (a.kind === 'copy_filled') this.fillDelivered(a.id, a.chatId, messageId, part);
        if (approval && markup) {
          this.store.approvals.addMessage(approval.id, a.chatId, messageId);
          if (!approval.text) this.store.approvals.setText(approval.id, part);
        }
      }
      this.store.outbox.markSent(a.id, this.clock.now());
      // A decision that raced the send: edit the message just sent.
      if (approval && markup && this.store.approvals.get(approval.id)?.state !== 'pending') void this.showDecision(approval.id);
      return true;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.store.outbox.markFailed(a.id, msg);
      if (a.attempts + 1 >= MAX_ATTEMPTS || (e instanceof GrammyError && e.error_code === 400)) {
        this.log.error({ alert: a.id, err: msg }, 'giving up on an alert');
        this.store.outbox.markSent(a.id, this.clock.now());
        return true;
      }
      this.log.warn({ alert: a.id, err: msg }, 'alert not delivered; will retry');
      return false;
    }
  }

  /** Edit every message that shows the request: keep the details, drop the buttons, add the decision. */
  private async showDecision(approvalId: string): Promise<void> {
    const a = this.store.approvals.get(approvalId);
    if (!a || a.state === 'pending' || !this.edit) return;
    const line = decisionLine(a, this.store.copies.forApproval(a.id));
    for (const m of a.messages) {
      try {
        await this.edit(m.chatId, m.messageId, `${a.text}\n\n${line}`);
      } catch (e) {
        this.log.warn({ approval: a.id, chat: m.chatId, err: (e as Error).message }, 'could not edit the approval message');
      }
    }
  }

  private scheduleRetry(attempt: number): void {
    if (this.retryTimer || this.stopped) return;
    const delay = Math.min(60_000, 1000 * 2 ** Math.min(attempt, 6));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, delay);
    this.retryTimer.unref();
  }

  /** Resolves when every alert known so far has been delivered (or given up). */
  async drained(): Promise<void> {
    this.flush();
    while (this.sending) await this.sending;
  }

  async stop(): Promise<void> {
    this.flush();
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.sending) await this.sending.catch(() => {});
  }
}
