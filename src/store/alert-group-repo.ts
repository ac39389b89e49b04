/** One chat message per leader order: its lines, and each chat's message (outbox row, then message id). */
import { and, eq, gte, isNotNull, lt, ne, or, isNull } from 'drizzle-orm';
import type { Db } from './db.js';
import { alertGroupMessages, alertGroups } from './schema.js';

export type AlertGroupRow = typeof alertGroups.$inferSelect;
export type AlertGroupMessageRow = typeof alertGroupMessages.$inferSelect;

export class AlertGroupRepo {
  constructor(private readonly db: Db) {}

  get(leaderOrderId: string): AlertGroupRow | undefined {
    return this.db.select().from(alertGroups).where(eq(alertGroups.leaderOrderId, leaderOrderId)).get();
  }

  save(leaderOrderId: string, lines: unknown[], lotSize: number, at: number): void {
    this.db
      .insert(alertGroups)
      .values({ leaderOrderId, lines, lotSize, createdAt: at, updatedAt: at })
      .onConflictDoUpdate({ target: alertGroups.leaderOrderId, set: { lines, lotSize, updatedAt: at } })
      .run();
  }

  message(leaderOrderId: string, chatId: number): AlertGroupMessageRow | undefined {
    return this.db
      .select()
      .from(alertGroupMessages)
      .where(and(eq(alertGroupMessages.leaderOrderId, leaderOrderId), eq(alertGroupMessages.chatId, chatId)))
      .get();
  }

  /** The group message an outbox row sends. */
  byAlert(alertId: number): AlertGroupMessageRow | undefined {
    return this.db.select().from(alertGroupMessages).where(eq(alertGroupMessages.alertId, alertId)).get();
  }

  /** The group message shown as this message. */
  byMessage(chatId: number, messageId: number): AlertGroupMessageRow | undefined {
    return this.db
      .select()
      .from(alertGroupMessages)
      .where(and(eq(alertGroupMessages.chatId, chatId), eq(alertGroupMessages.messageId, messageId)))
      .get();
  }

  /** A new message is on its way (the first, or one replacing a message that can no longer be edited). */
  queued(leaderOrderId: string, chatId: number, alertId: number, text: string, at: number): void {
    const row = { alertId, messageId: null, sentAt: null, shownText: null, text, updatedAt: at };
    this.db
      .insert(alertGroupMessages)
      .values({ leaderOrderId, chatId, ...row })
      .onConflictDoUpdate({ target: [alertGroupMessages.leaderOrderId, alertGroupMessages.chatId], set: row })
      .run();
  }

  /** What the chat should see now. */
  setText(leaderOrderId: string, chatId: number, text: string, at: number): void {
    this.db
      .update(alertGroupMessages)
      .set({ text, updatedAt: at })
      .where(and(eq(alertGroupMessages.leaderOrderId, leaderOrderId), eq(alertGroupMessages.chatId, chatId)))
      .run();
  }

  delivered(alertId: number, messageId: number, sentAt: number, shownText: string): void {
    this.db.update(alertGroupMessages).set({ alertId: null, messageId, sentAt, shownText }).where(eq(alertGroupMessages.alertId, alertId)).run();
  }

  /** An edit went through (or Telegram already showed it). */
  shown(chatId: number, messageId: number, shownText: string): void {
    this.db
      .update(alertGroupMessages)
      .set({ shownText })
      .where(and(eq(alertGroupMessages.chatId, chatId), eq(alertGroupMessages.messageId, messageId)))
      .run();
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
