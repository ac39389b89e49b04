/** One chat message per leader order: its lines, and each chat's message (outbox row, then message id). */
import { and, eq, gte, isNotNull, lt, ne, or, isNull, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { alertGroupMessages, alertGroups } from './schema.js';

export type AlertGroupRow = typeof alertGroups.$inferSelect;
export type AlertGroupMessageRow = typeof alertGroupMessages.$inferSelect;

export class AlertGroupRepo {
  // Every call of these runs once or more per copy event (copy-groups.ts): prepared once, not built per call.
  private readonly getStmt;
  private readonly saveStmt;
  private readonly messageStmt;
  private readonly byAlertStmt;
  private readonly byMessageStmt;
  private readonly queuedStmt;
  private readonly setTextStmt;
  private readonly deliveredStmt;
  private readonly shownStmt;
  private readonly abandonedStmt;

  constructor(private readonly db: Db) {
    const p = sql.placeholder;
    const g = alertGroupMessages;
    this.getStmt = db.select().from(alertGroups).where(eq(alertGroups.leaderOrderId, p('leaderOrderId'))).prepare();
    this.saveStmt = db
      .insert(alertGroups)
      .values({ leaderOrderId: p('leaderOrderId'), lines: p('lines'), lotSize: p('lotSize'), createdAt: p('at'), updatedAt: p('at') })
      .onConflictDoUpdate({ target: alertGroups.leaderOrderId, set: { lines: p('lines'), lotSize: p('lotSize'), updatedAt: p('at') } as never })
      .prepare();
    this.messageStmt = db.select().from(g).where(and(eq(g.leaderOrderId, p('leaderOrderId')), eq(g.chatId, p('chatId')))).prepare();
    this.byAlertStmt = db.select().from(g).where(eq(g.alertId, p('alertId'))).prepare();
    this.byMessageStmt = db.select().from(g).where(and(eq(g.chatId, p('chatId')), eq(g.messageId, p('messageId')))).prepare();
    const queuedSet = { alertId: p('alertId'), messageId: null, sentAt: null, shownText: null, text: p('text'), updatedAt: p('at') };
    this.queuedStmt = db
      .insert(g)
      .values({ leaderOrderId: p('leaderOrderId'), chatId: p('chatId'), ...queuedSet })
      .onConflictDoUpdate({ target: [g.leaderOrderId, g.chatId], set: queuedSet as never })
      .prepare();
    this.setTextStmt = db
      .update(g)
      .set({ text: p('text'), updatedAt: p('at') } as never)
      .where(and(eq(g.leaderOrderId, p('leaderOrderId')), eq(g.chatId, p('chatId'))))
      .prepare();
    this.deliveredStmt = db
      .update(g)
      .set({ alertId: null, messageId: p('messageId'), sentAt: p('sentAt'), shownText: p('shownText') } as never)
      .where(eq(g.alertId, p('alertId')))
      .prepare();
    this.abandonedStmt = db
      .update(g)
      .set({ alertId: null } as never)
      .where(eq(g.alertId, p('alertId')))
      .prepare();
    this.shownStmt = db
      .update(g)
      .set({ shownText: p('shownText') } as never)
      .where(and(eq(g.chatId, p('chatId')), eq(g.messageId, p('messageId'))))
      .prepare();
  }

  get(leaderOrderId: string): AlertGroupRow | undefined {
    return this.getStmt.get({ leaderOrderId });
  }

  save(leaderOrderId: string, lines: unknown[], lotSize: number, at: number): void {
    this.saveStmt.run({ leaderOrderId, lines, lotSize, at });
  }

  message(leaderOrderId: string, chatId: number): AlertGroupMessageRow | undefined {
    return this.messageStmt.get({ leaderOrderId, chatId });
  }

  /** The group message an outbox row sends. */
  byAlert(alertId: number): AlertGroupMessageRow | undefined {
    return this.byAlertStmt.get({ alertId });
  }

  /** The group message shown as this message. */
  byMessage(chatId: number, messageId: number): AlertGroupMessageRow | undefined {
    return this.byMessageStmt.get({ chatId, messageId });
  }

  /** A new message is on its way (the first, or one replacing a message that can no longer be edited). */
  queued(leaderOrderId: string, chatId: number, alertId: number, text: string, at: number): void {
    this.queuedStmt.run({ leaderOrderId, chatId, alertId, text, at });
  }

  /** What the chat should see now. */
  setText(leaderOrderId: string, chatId: number, text: string, at: number): void {
    this.setTextStmt.run({ leaderOrderId, chatId, text, at });
  }

  delivered(alertId: number, messageId: number, sentAt: number, shownText: string): void {
    this.deliveredStmt.run({ alertId, messageId, sentAt, shownText });
  }

  /** The outbox gave up sending this message: the chat has none, and the group's next change queues a new one. */
  abandoned(alertId: number): void {
    this.abandonedStmt.run({ alertId });
  }

  /** An edit went through (or Telegram already showed it). */
  shown(chatId: number, messageId: number, shownText: string): void {
    this.shownStmt.run({ chatId, messageId, shownText });
  }

  /** Delivered messages whose chat has not seen the latest text yet (an edit was due at a stop). */
  unsettled(sentSince: number): AlertGroupMessageRow[] {
    return this.db
      .select()
      .from(alertGroupMessages)
      .where(
        and(
          isNotNull(alertGroupMessages.messageId),
          gte(alertGroupMessages.sentAt, sentSince),
          or(isNull(alertGroupMessages.shownText), ne(alertGroupMessages.shownText, alertGroupMessages.text)),
        ),
      )
      .all();
  }

  /** Forget groups nobody will edit again. */
  prune(before: number): void {
    this.db.delete(alertGroupMessages).where(lt(alertGroupMessages.updatedAt, before)).run();
    this.db.delete(alertGroups).where(lt(alertGroups.updatedAt, before)).run();
  }
}
