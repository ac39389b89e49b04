/**
 * The notifier's per-chat queues with a scripted send function: a 429 holds back only the chat it
 * was given for, for its `retry_after`; alerts persist per chat across a restart.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GrammyError } from 'grammy';
import { Notifier, type SendFn } from '../../src/bot/notifier.js';
import { systemClock } from '../../src/infra/clock.js';
import { createLogger } from '../../src/infra/logger.js';
import { Store } from '../../src/store/index.js';
import { tempDbPath } from '../e2e/harness.js';

const A = 501;
const B = 502;
const quiet = createLogger({ level: 'silent', pretty: false });
const tooMany = (retryAfter: number) =>
  new GrammyError('Call to sendMessage failed', { ok: false, error_code: 429, description: `Too Many Requests: retry after ${retryAfter}`, parameters: { retry_after: retryAfter } }, 'sendMessage', {});

let stores: Store[] = [];
let notifiers: Notifier[] = [];
afterEach(async () => {
  for (const n of notifiers) await n.stop();
  for (const s of stores) s.close();
  stores = [];
  notifiers = [];
});

function make(path: string, chats: number[]): { store: Store; notifier: Notifier } {
  const store = Store.open(path);
  const notifier = new Notifier(store, systemClock, chats, quiet);
  stores.push(store);
  notifiers.push(notifier);
  return { store, notifier };
}

/** A send function that records every attempt and fails the first ones it is told to. */
function scripted(failures: Map<number, Error[]>) {
  const attempts: { chat: number; at: number; ok: boolean }[] = [];
  const waiters: { chat: number; resolve: () => void }[] = [];
  const send: SendFn = async (chat) => {
    const err = failures.get(chat)?.shift();
    attempts.push({ chat, at: performance.now(), ok: !err });
    if (err) throw err;
    for (const w of waiters.filter((x) => x.chat === chat)) w.resolve();
    return attempts.length;
  };
  const delivered = (chat: number) => new Promise<void>((resolve) => waiters.push({ chat, resolve }));
  return { send, attempts, delivered };
}

describe('notifier: one queue per chat', () => {
  it("a 429 with a long retry_after holds back only that chat, for retry_after; the other chat's alert goes at once", async () => {
    const { notifier } = make(tempDbPath(), [A, B]);
    const s = scripted(new Map([[A, [tooMany(1)]]]));
    const aDone = s.delivered(A);
    const bDone = s.delivered(B);
    notifier.attach(s.send, async () => {});
    const t0 = performance.now();
    notifier.emit({ type: 'error', accountId: null, message: 'something broke' });
    await bDone;
    const bAt = performance.now() - t0;
    await aDone;
    const aAttempts = s.attempts.filter((x) => x.chat === A);
    expect(bAt).toBeLessThan(200);
    expect(aAttempts.map((x) => x.ok)).toEqual([false, true]);
    expect(aAttempts[1]!.at - aAttempts[0]!.at).toBeGreaterThanOrEqual(990);
    expect(s.attempts.filter((x) => x.chat === B)).toHaveLength(1);
  });

  it('alerts a chat could not take survive a restart and are delivered to that chat only', async () => {
    const path = tempDbPath();
    const first = make(path, [A, B]);
    const s1 = scripted(new Map([[A, [tooMany(600)]]]));
    const bDone = s1.delivered(B);
    first.notifier.attach(s1.send, async () => {});
    first.notifier.emit({ type: 'error', accountId: null, message: 'one' });
    await bDone;
    await first.notifier.drained();
    expect(first.store.outbox.pendingByChat()).toEqual(new Map([[A, 1]]));
    await first.notifier.stop();
    first.store.close();
    stores = stores.filter((x) => x !== first.store);

    const second = make(path, [A, B]);
    const s2 = scripted(new Map());
    const aDone = s2.delivered(A);
    second.notifier.attach(s2.send, async () => {});
    await aDone;
    await second.notifier.drained();
    expect(s2.attempts.map((x) => x.chat)).toEqual([A]);
    expect(second.store.outbox.pendingByChat().size).toBe(0);
  });
});
