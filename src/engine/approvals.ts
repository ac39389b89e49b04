/**
 * Approvals for large entries. The request row is written (with its copies in
 * `awaiting_approval`) before anything is shown; one guarded UPDATE decides it, and only the
 * winner releases the copies to their queues. Expiry runs on a server-side timer: no answer means
 * not copied. A leader cancel or modify voids the request, and so does a restart.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { ApprovalRow, CopyRow, NewCopy, Store } from '../store/index.js';
import type { CopyExecutor } from './copy-executor.js';
import type { EngineEvents } from './events.js';

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A short, unambiguous id for a button (`ap:K7Q2MX:y` is well under 64 bytes). */
export function newApprovalId(): string {
  const bytes = randomBytes(6);
  let id = '';
  for (const b of bytes) id += ALPHABET[b % ALPHABET.length];
  return id;
}

export type Decision = 'approve' | 'reject';

export type DecideResult =
  | { won: true; approval: ApprovalRow }
  /** `refused`: the tap came, but the world moved on (the leader exited or modified): not copied, and why. */
  | { won: false; approval: ApprovalRow | undefined; refused?: string };

export class ApprovalManager {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** At an Approve tap: the reason the request no longer holds (the leader exited, the price ran), or null. */
  recheck: (approval: ApprovalRow, copies: CopyRow[]) => string | null = () => null;
  /** At an Approve tap, per copy: why its follower may not take an entry now (paused, a rule, …), or null. */
  blockedAtTap: (copy: CopyRow) => string | null = () => null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly executor: CopyExecutor,
    private readonly events: EngineEvents,
    private readonly log: Logger,
  ) {}

  /**
   * A request for copies added after the order was first planned (a leader increase): the request
   * row and its waiting copies in one transaction, then shown.
   */
  request(leaderOrderId: string, copies: NewCopy[], rules: { thresholdInr: number | null; timeoutMs: number }, describe: string): void {
    const id = copies[0]?.approvalId;
    if (!id) return;
    const now = this.clock.now();
    this.store.tx(() => {
      this.store.approvals.insert({ id, leaderOrderId, state: 'pending', threshold: rules.thresholdInr, expiresAt: now + rules.timeoutMs, createdAt: now });
      this.store.copies.insert(copies);
    });
    const row = this.store.approvals.get(id);
    if (row) this.opened(row, describe);
  }

  /** Arm the expiry timer of a request just written, and announce it. */
  opened(approval: ApprovalRow, leaderOrder: string): void {
    this.arm(approval);
    this.events.emit({ type: 'approval_requested', approval, copies: this.store.copies.forApproval(approval.id), leaderOrder });
  }

  private arm(a: ApprovalRow): void {
    const delay = Math.max(0, a.expiresAt - this.clock.now());
    const t = setTimeout(() => this.expire(a.id), delay);
    t.unref();
    this.timers.set(a.id, t);
  }

  decide(id: string, decision: Decision, actor: number): DecideResult {
    const now = this.clock.now();
    const to = decision === 'approve' ? 'approved' : 'rejected';
    const copies = this.store.copies.forApproval(id);
    const pending = this.store.approvals.get(id);
    if (decision === 'approve' && pending?.state === 'pending') {
      const why = this.recheck(pending, copies);
      if (why) {
        this.close(id, 'void', 'cancelled', `not copied at the tap: ${why}`);
        return { won: false, approval: this.store.approvals.get(id), refused: why };
      }
    }
    let won = false;
    this.store.tx(() => {
      won = this.store.approvals.decide(id, to, actor, now, null);
      if (!won) return;
      for (const c of copies) {
        const blocked = decision === 'approve' ? this.blockedAtTap(c) : null;
        if (blocked) {
          if (this.store.copies.transition(c.id, 'awaiting_approval', 'skipped', now)) this.store.copies.update(c.id, { reason: `approved, but not copied at the tap: ${blocked}` });
        } else if (decision === 'approve') this.store.copies.transition(c.id, 'awaiting_approval', 'planned', now);
        else if (this.store.copies.transition(c.id, 'awaiting_approval', 'skipped', now)) {
          this.store.copies.update(c.id, { reason: `rejected in the chat by ${actor}` });
        }
      }
    });
    const approval = this.store.approvals.get(id);
    if (!won || !approval) return { won: false, approval };
    this.clear(id);
    const after = this.store.copies.forApproval(id);
    this.log.info({ approval: id, decision, actor }, 'approval decided');
    this.events.emit({ type: 'approval_decided', approval, copies: after });
    if (decision === 'approve') {
      for (const c of after) {
        if (c.state === 'planned') void this.executor.place(c, null);
        else if (c.state === 'skipped' && c.reason?.startsWith('approved, but')) this.events.emit({ type: 'copy_skipped', copy: c });
      }
    }
    return { won: true, approval };
  }

  /** No answer in time: not copied, and said loudly. */
  expire(id: string): void {
    this.close(id, 'expired', 'expired', 'no answer before the deadline');
  }

  /** The leader cancelled or changed the order, or the process restarted: the request is void. */
  voidFor(leaderOrderId: string, why: string): void {
    for (const a of this.store.approvals.pendingFor(leaderOrderId)) this.close(a.id, 'void', 'cancelled', why);
  }

  /** At start-up: requests from before the restart cannot be trusted (prices moved). */
  voidAllPending(why: string): void {
    for (const a of this.store.approvals.pending()) this.close(a.id, 'void', 'expired', why);
  }

  private close(id: string, to: 'expired' | 'void', copyState: 'expired' | 'cancelled', why: string): void {
    const now = this.clock.now();
    let won = false;
    this.store.tx(() => {
      won = this.store.approvals.decide(id, to, null, now, why);
      if (!won) return;
      for (const c of this.store.copies.forApproval(id)) {
        if (this.store.copies.transition(c.id, 'awaiting_approval', copyState, now)) {
          this.store.copies.update(c.id, { reason: `approval ${to === 'void' ? 'voided' : 'expired'}: ${why}` });
        }
      }
    });
    this.clear(id);
    const approval = this.store.approvals.get(id);
    if (!won || !approval) return;
    this.log.warn({ approval: id, to, why }, 'approval closed without a decision; not copied');
    this.events.emit({ type: 'approval_decided', approval, copies: this.store.copies.forApproval(id) });
  }

  pending(): ApprovalRow[] {
    return this.store.approvals.pending();
  }

  copiesOf(id: string): CopyRow[] {
    return this.store.copies.forApproval(id);
  }

  private clear(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
