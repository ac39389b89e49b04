/** Edits within Telegram's limits, against a scripted edit function that answers like the Bot API. */
import { afterEach, describe, expect, it } from 'vitest';
import { GrammyError } from 'grammy';
import { MessageEditor, type EditFn } from '../../src/bot/message-editor.js';
import { createLogger } from '../../src/infra/logger.js';

const quiet = createLogger({ level: 'silent', pretty: false });
const apiError = (error_code: number, description: string, retry_after?: number) =>
  new GrammyError('Call to editMessageText failed', { ok: false, error_code, description, ...(retry_after ? { parameters: { retry_after } } : {}) }, 'editMessageText', {});

/** An edit function that answers with the scripted errors first, then ok; records each call. */
function scripted(errors: Error[] = []) {
  const calls: { text: string; at: number; ok: boolean }[] = [];
  const edit: EditFn = async (_chat, _msg, text) => {
    const err = errors.shift();
    calls.push({ text, at: performance.now(), ok: !err });
    if (err) throw err;
  };
  return { edit, calls };
}

function listener() {
  const seen = { shown: [] as string[], gone: 0 };
  return { seen, l: { shown: (_c: number, _m: number, t: string) => void seen.shown.push(t), gone: () => void (seen.gone += 1) } };
}

let editors: MessageEditor[] = [];
afterEach(async () => {
  for (const e of editors) await e.stop();
  editors = [];
});
const make = (edit: EditFn, l: ReturnType<typeof listener>['l'], minIntervalMs = 200) => {
  const e = new MessageEditor(() => edit, l, quiet, { minIntervalMs });
  editors.push(e);
  return e;
};

describe('message editor', () => {
  it('coalesces: five quick changes are two edits, the latest text last, an interval apart', async () => {
    const s = scripted();
    const { seen, l } = listener();
    const ed = make(s.edit, l);
    ed.set(1, 10, 'a');
    await new Promise((r) => setTimeout(r, 20));
    for (const t of ['b', 'c', 'd', 'e']) {
      ed.set(1, 10, t);
      await new Promise((r) => setImmediate(r));
    }
    await ed.idle();
    expect(s.calls.map((c) => c.text)).toEqual(['a', 'e']);
    expect(s.calls[1]!.at - s.calls[0]!.at).toBeGreaterThanOrEqual(195);
    expect(seen.shown).toEqual(['a', 'e']);
  });

  it('the first edit after a send waits the interval too', async () => {
    const s = scripted();
    const ed = make(s.edit, listener().l);
    const sentAt = performance.now();
    ed.sent(1, 10, 'sent');
    ed.set(1, 10, 'edited');
    await ed.idle();
    expect(s.calls.map((c) => c.text)).toEqual(['edited']);
    expect(s.calls[0]!.at - sentAt).toBeGreaterThanOrEqual(195);
  });

  it('a 429 waits retry_after, then sends the latest text, not the refused one', async () => {
    const s = scripted([apiError(429, 'Too Many Requests: retry after 1', 1)]);
    const ed = make(s.edit, listener().l, 10);
    ed.set(1, 10, 'first');
    await new Promise((r) => setTimeout(r, 100));
    ed.set(1, 10, 'second');
    await new Promise((r) => setTimeout(r, 1200));
    await ed.idle();
    expect(s.calls.map((c) => [c.text, c.ok])).toEqual([['first', false], ['second', true]]);
    expect(s.calls[1]!.at - s.calls[0]!.at).toBeGreaterThanOrEqual(990);
  });

  it('"message is not modified" counts as shown and is not retried', async () => {
    const s = scripted([apiError(400, 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same')]);
    const { seen, l } = listener();
    const ed = make(s.edit, l);
    ed.set(1, 10, 'same');
    await ed.idle();
    expect(s.calls).toHaveLength(1);
    expect(seen.shown).toEqual(['same']);
  });

  it.each(['Bad Request: message to edit not found', "Bad Request: message can't be edited"])('"%s": the owner is told once, nothing more is tried', async (description) => {
    const s = scripted([apiError(400, description)]);
    const { seen, l } = listener();
    const ed = make(s.edit, l, 10);
    ed.set(1, 10, 'one');
    await new Promise((r) => setTimeout(r, 20));
    ed.set(1, 10, 'two');
    await ed.idle();
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.gone).toBe(1);
    expect(s.calls.map((c) => c.text)).toEqual(['one']);
  });

  it('a network failure is retried with a backoff', async () => {
    const s = scripted([new Error('socket hang up')]);
    const { seen, l } = listener();
    const ed = make(s.edit, l, 10);
    ed.set(1, 10, 'x');
    await new Promise((r) => setTimeout(r, 1100));
    await ed.idle();
    expect(s.calls.map((c) => c.ok)).toEqual([false, true]);
    expect(s.calls[1]!.at - s.calls[0]!.at).toBeGreaterThanOrEqual(990);
    expect(seen.shown).toEqual(['x']);
  });
});
