/** Approval requests and their one guarded decision. */
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from './db.js';
import { approvals, type ApprovalState } from './schema.js';

export type ApprovalRow = typeof approvals.$inferSelect;
export type NewApproval = typeof approvals.$inferInsert;

export class ApprovalRepo {
  constructor(private readonly db: Db) {}

  insert(a: NewApproval): void {
    this.db.insert(approvals).values(a).run();
  }

  get(id: string): ApprovalRow | undefined {
    return this.db.select().from(approvals).where(eq(approvals.id, id)).get();
  }

  /** The one guarded decision: true only for the caller that moved it out of `pending`. */
  decide(id: string, to: Exclude<ApprovalState, 'pending'>, by: number | null, at: number, reason: string | null): boolean {
    return (
      this.db
        .update(approvals)
        .set({ state: to, decidedBy: by, decidedAt: at, reason })
        .where(and(eq(approvals.id, id), eq(approvals.state, 'pending')))
        .run().changes === 1
    );
  }

  pending(): ApprovalRow[] {
    return this.db.select().from(approvals).where(eq(approvals.state, 'pending')).orderBy(approvals.createdAt).all();
  }

  pendingFor(leaderOrderId: string): ApprovalRow[] {
    return this.db.select().from(approvals).where(and(eq(approvals.leaderOrderId, leaderOrderId), eq(approvals.state, 'pending'))).all();
  }

  addMessage(id: string, chatId: number, messageId: number): void {
    this.db
      .update(approvals)
      .set({ messages: sql`json_insert(${approvals.messages}, '$[#]', json(${JSON.stringify({ chatId, messageId })}))` })
      .where(eq(approvals.id, id))
      .run();
  }

  setText(id: string, text: string): void {
    this.db.update(approvals).set({ text }).where(eq(approvals.id, id)).run();
  }
}
