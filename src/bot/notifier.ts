/**
 * Alerts that always arrive: every engine event worth telling becomes a row in the SQLite outbox
 * (written off the hot path, on the next turn of the event loop), and each admin chat has its own
 * delivery queue over its rows, in priority order — so one chat that cannot be reached never holds
 * back another. Per chat: a 429 is waited out (auto-retry inside the call; a longer `retry_after`
 * by this queue), an HTML parse error falls back to plain text, a 403 (the user blocked the bot or
 * never started it) marks the chat unreachable (one log line, a line in /health) and it is tried
 * again only every `unreachableRetryMs`; other failures are retried with backoff. A restart loses
 * nothing: undelivered rows are sent on the next start.
 */
import { GrammyError } from 'grammy';
import type { EngineEvent, EngineEvents } from '../engine/events.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { AlertRow, Store } from '../store/index.js';
import { alertOf, decisionLine, PRIORITY, type Alert } from './alerts.js';
import { escapeHtml, htmlToPlain, splitMessage } from './format.js';
import { istTime } from '../domain/time.js';
import { NotifyPrefs } from './notify-prefs.js';
import { CopyGroups, GROUP_KIND, isCopyEvent } from './copy-groups.js';
import { MessageEditor, type EditFn, type EditorOptions } from './message-editor.js';

/** Sends one message; resolves with its message id. */
export type SendFn = (chatId: number, text: string, opts: { html: boolean; silent: boolean; markup?: unknown }) => Promise<number>;
/** Replaces a message's text (and removes its buttons). */
export type { EditFn };

const MAX_ATTEMPTS = 20;
/** Undelivered rows of a chat read at a time. */
const DELIVER_BATCH = 50;
/** This many informational alerts waiting for one chat are sent as one message. */
const COALESCE_AT = 8;
/** A chat that answered 403 is tried again this often. */
const UNREACHABLE_RETRY_MS = 10 * 60_000;

/** One admin chat's delivery queue. */
interface Lane {
  readonly chatId: number;
  sending: Promise<void> | null;
  again: boolean;
  /** Waiting before the next attempt (backoff, `retry_after`, or an unreachable chat's rare retry). */
  timer: NodeJS.Timeout | null;
  /** Failures in a row (network, 5xx): the backoff. */
  failures: number;
  /** Set by a 403: the chat cannot be reached (blocked, never started). */
  unreachable: { since: number; reason: string } | null;
}

/** What one delivery attempt means for its chat's queue. */
type Outcome = { ok: true } | { ok: false; retryInMs: number };

export interface NotifierOptions {
  /** How often a chat that answered 403 is tried again (default 10 min). */
  unreachableRetryMs?: number;
  /** Edits of the leader orders' messages (least time between two edits of one message). */
  edits?: EditorOptions;
}

export class Notifier implements EngineEvents {
  private pending: EngineEvent[] = [];
  private flushScheduled = false;
  private readonly lanes = new Map<number, Lane>();
  private readonly unreachableRetryMs: number;
  private stopped = false;
  private readonly downSince = new Map<string, number>();
  /** One message per leader order and chat, edited in place as its copies move on. */
  private readonly groups: CopyGroups;
  private readonly editor: MessageEditor;
  readonly prefs: NotifyPrefs;
  private send: SendFn | null = null;
  private edit: EditFn | null = null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly chatIds: number[],
    private readonly log: Logger,
    opts: NotifierOptions = {},
  ) {
    this.prefs = new NotifyPrefs(store, clock);
    this.unreachableRetryMs = opts.unreachableRetryMs ?? UNREACHABLE_RETRY_MS;
    const editor = new MessageEditor(() => this.edit, { shown: (c, m, t) => this.recordShown(c, m, t), gone: (c, m) => this.groups.gone(c, m) }, log, opts.edits);
    this.editor = editor;
    this.groups = new CopyGroups({ store, clock, chatIds, prefs: this.prefs, editor, log, queued: () => this.kickAll() });
    for (const chatId of chatIds) this.lanes.set(chatId, { chatId, sending: null, again: false, timer: null, failures: 0, unreachable: null });
  }

  /**
   * What a chat now shows, once an edit went through: it needs no commit of its own (Store.later).
   * Lost with the process, the edit is made again at the next start and Telegram answers "not
   * modified", which counts as shown.
   */
  private recordShown(chatId: number, messageId: number, text: string): void {
    this.store.later(
      () => this.store.alertGroups.shown(chatId, messageId, text),
      (err) => this.log.warn({ chat: chatId, err: (err as Error).message }, 'could not record an edited message (it is edited again at the next start)'),
    );
  }

  /** Connect the delivery function (the bot) and deliver whatever is waiting. */
  attach(send: SendFn, edit: EditFn): void {
    this.send = send;
    this.edit = edit;
    this.dropForeignAlerts();
    this.groups.resume();
    this.kickAll();
  }

  /** Alerts queued for a chat that is no longer an admin are not sent to it. */
  private dropForeignAlerts(): void {
    for (const [chatId, n] of this.store.outbox.pendingByChat()) {
      if (this.lanes.has(chatId)) continue;
      const now = this.clock.now();
      this.store.tx(() => {
        for (const a of this.store.outbox.pendingFor(chatId, n)) this.store.outbox.markSent(a.id, now);
      });
      this.log.warn({ chat: chatId, alerts: n }, 'alerts queued for a chat that is no longer an admin were dropped');
    }
  }

  /** /health lines: admin chats that cannot be reached, and how many alerts wait for each. */
  healthLines(): string[] {
    const out: string[] = [];
    const waiting = this.store.outbox.pendingByChat();
    for (const lane of this.lanes.values()) {
      if (!lane.unreachable) continue;
      const every = Math.round(this.unreachableRetryMs / 60_000);
      out.push(
        `⚠️ Admin chat ${lane.chatId} unreachable since ${istTime(lane.unreachable.since)} IST (${escapeHtml(lane.unreachable.reason)}) · ${waiting.get(lane.chatId) ?? 0} alert(s) waiting · retried every ${every} min`,
      );
    }
    return out;
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

  /** Write queued events to the outbox. */
  flush(): void {
    this.flushScheduled = false;
    const events = this.pending.splice(0);
    if (events.length === 0) return;
    const now = this.clock.now();
    const enqueued = this.store.outbox.enqueued;
    // One transaction, and one turn of the copy groups: each leader order's message read and written once per flush.
    this.groups.inTurn(now, () => {
      for (const e of events) {
        if (isCopyEvent(e)) this.groups.apply(e, now);
        const a = alertOf(e, now);
        if (a) {
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
    // Most flushes only edit messages already sent: the chats' queues are started when there is something new to send.
    if (this.store.outbox.enqueued !== enqueued) this.kickAll();
  }

  get depth(): number {
    return this.store.outbox.depth() + this.pending.length;
  }

  private kickAll(): void {
    for (const lane of this.lanes.values()) this.kick(lane);
  }

  /** Start the chat's queue unless it is running (then it runs again) or waiting for a retry. */
  private kick(lane: Lane): void {
    if (!this.send || this.stopped || lane.timer) return;
    if (lane.sending) {
      lane.again = true;
      return;
    }
    lane.sending = this.deliver(lane).finally(() => {
      lane.sending = null;
      if (lane.again) {
        lane.again = false;
        this.kick(lane);
      }
    });
  }

  private async deliver(lane: Lane): Promise<void> {
    for (;;) {
      // Rows become pending only by being enqueued (this process is the outbox's only writer): a
      // batch read whole, delivered, with nothing enqueued since, leaves nothing to read again.
      const enqueued = this.store.outbox.enqueued;
      const read = this.store.outbox.pendingFor(lane.chatId, DELIVER_BATCH);
      const batch = this.coalesce(lane.chatId, read);
      if (batch.length === 0 || this.stopped) return;
      for (const a of batch) {
        if (this.stopped) return;
        const r = await this.deliverOne(lane, a);
        if (!r.ok) {
          this.retryLater(lane, r.retryInMs);
          return;
        }
      }
      if (read.length < DELIVER_BATCH && this.store.outbox.enqueued === enqueued) return;
    }
  }

  /**
   * A backlog of low-priority (silent, informational) alerts for one chat is folded into one
   * message: the rows are marked delivered and a combined row takes their place. Approvals, errors,
   * fills and the leader orders' messages (edited later) are never folded.
   */
  private coalesce(chatId: number, batch: AlertRow[]): AlertRow[] {
    const rows = batch.filter((a) => a.priority >= PRIORITY.info && !a.markup && a.kind !== GROUP_KIND);
    if (rows.length < COALESCE_AT) return batch;
    const now = this.clock.now();
    const text = `📦 ${rows.length} updates while alerts were queued:\n${rows.map((r) => r.text).join('\n')}`;
    let id = 0;
    this.store.tx(() => {
      for (const r of rows) this.store.outbox.markSent(r.id, now);
      id = this.store.outbox.enqueue({ chatId, priority: PRIORITY.info, kind: 'backlog', text, createdAt: now });
    });
    const merged = this.store.outbox.pendingFor(chatId, 500).find((r) => r.id === id);
    const drop = new Set(rows.map((r) => r.id));
    return [...batch.filter((r) => !drop.has(r.id)), ...(merged ? [merged] : [])];
  }

  private async deliverOne(lane: Lane, a: AlertRow): Promise<Outcome> {
    const send = this.send;
    if (!send) return { ok: false, retryInMs: 1000 };
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
      const parts = splitMessage(text);
      for (const [i, part] of parts.entries()) {
        let messageId: number;
        try {
          messageId = await send(a.chatId, part, { html: true, silent, markup });
        } catch (e) {
          if (e instanceof GrammyError && /can't parse entities/i.test(e.description)) {
            messageId = await send(a.chatId, htmlToPlain(part), { html: false, silent, markup });
          } else throw e;
        }
        // What the send leaves to record, in one commit; the last part's also marks the alert sent.
        this.store.tx(() => {
          if (a.kind === GROUP_KIND) this.groups.delivered(a.id, a.chatId, messageId, part);
          if (approval && markup) {
            this.store.approvals.addMessage(approval.id, a.chatId, messageId);
            if (!approval.text) this.store.approvals.setText(approval.id, part);
          }
          if (i === parts.length - 1) this.store.outbox.markSent(a.id, this.clock.now());
        });
      }
      // A decision that raced the send: edit the message just sent.
      if (approval && markup && this.store.approvals.get(approval.id)?.state !== 'pending') void this.showDecision(approval.id);
      this.reachable(lane);
      return { ok: true };
    } catch (e) {
      return this.failed(lane, a, e);
    }
  }

  /** A send worked: the chat's failures are over, and an unreachable chat is back. */
  private reachable(lane: Lane): void {
    lane.failures = 0;
    if (!lane.unreachable) return;
    this.log.info({ chat: lane.chatId, downForMs: this.clock.now() - lane.unreachable.since }, 'admin chat reachable again; its waiting alerts follow');
    lane.unreachable = null;
  }

  private failed(lane: Lane, a: AlertRow, e: unknown): Outcome {
    const msg = e instanceof Error ? e.message : String(e);
    if (e instanceof GrammyError && e.error_code === 403) {
      // Blocked, or never started: nothing is wrong with the alert. It waits; the chat is tried rarely.
      if (!lane.unreachable) {
        lane.unreachable = { since: this.clock.now(), reason: e.description };
        this.log.warn({ chat: lane.chatId, err: e.description, retryEveryMs: this.unreachableRetryMs }, 'admin chat unreachable: its alerts wait and it is tried again rarely; the other admins are not held up');
      }
      return { ok: false, retryInMs: this.unreachableRetryMs };
    }
    if (e instanceof GrammyError && e.error_code === 429) {
      // Longer than auto-retry waits inside a call: this chat's queue waits it out, the others go on.
      const retryInMs = Math.max(1, e.parameters.retry_after ?? 1) * 1000;
      this.log.warn({ chat: lane.chatId, retryInMs }, 'Telegram flood limit for this chat; waiting');
      return { ok: false, retryInMs };
    }
    this.store.outbox.markFailed(a.id, msg);
    if (a.attempts + 1 >= MAX_ATTEMPTS || (e instanceof GrammyError && e.error_code === 400)) {
      this.log.error({ alert: a.id, chat: lane.chatId, err: msg }, 'giving up on an alert');
      this.store.tx(() => {
        this.store.outbox.markSent(a.id, this.clock.now());
        // A leader order's message given up: its next change sends a new one (it would only edit a message never sent).
        if (a.kind === GROUP_KIND) this.store.alertGroups.abandoned(a.id);
      });
      return { ok: true };
    }
    this.log.warn({ alert: a.id, chat: lane.chatId, err: msg }, 'alert not delivered; will retry');
    lane.failures += 1;
    return { ok: false, retryInMs: Math.min(60_000, 1000 * 2 ** Math.min(lane.failures, 6)) };
  }

  /** Edit every message that shows the request: keep the details, drop the buttons, add the decision. */
  private async showDecision(approvalId: string): Promise<void> {
    const a = this.store.approvals.get(approvalId);
    const edit = this.edit;
    if (!a || a.state === 'pending' || !edit) return;
    const line = decisionLine(a, this.store.copies.forApproval(a.id));
    // Each chat's edit on its own: a slow or failing chat does not delay the others.
    await Promise.all(
      a.messages.map((m) =>
        edit(m.chatId, m.messageId, `${a.text}\n\n${line}`).catch((e: unknown) =>
          this.log.warn({ approval: a.id, chat: m.chatId, err: (e as Error).message }, 'could not edit the approval message'),
        ),
      ),
    );
  }

  private retryLater(lane: Lane, ms: number): void {
    if (lane.timer || this.stopped) return;
    lane.timer = setTimeout(() => {
      lane.timer = null;
      this.kick(lane);
    }, ms);
    lane.timer.unref();
  }

  /** Resolves when every alert known so far has been delivered (or given up). */
  async drained(): Promise<void> {
    this.flush();
    for (;;) {
      const busy = [...this.lanes.values()].flatMap((l) => (l.sending ? [l.sending] : []));
      if (busy.length === 0) {
        // Edits of the leader orders' messages (coalesced: up to a second away) are part of it.
        await this.editor.idle();
        if ([...this.lanes.values()].every((l) => !l.sending)) return;
        continue;
      }
      await Promise.all(busy);
    }
  }

  async stop(): Promise<void> {
    this.flush();
    this.stopped = true;
    for (const lane of this.lanes.values()) if (lane.timer) clearTimeout(lane.timer);
    await Promise.all([...this.lanes.values()].map((l) => l.sending?.catch(() => {})));
    // Edits still waiting are made at the next start (the database knows what each chat should see).
    await this.editor.stop();
  }
}
