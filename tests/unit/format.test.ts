import { describe, expect, it } from 'vitest';
import { escapeHtml, formatAge, formatInr, formatNum, formatQty, htmlToPlain, splitMessage, TELEGRAM_MAX } from '../../src/bot/format.js';

describe('escapeHtml', () => {
  it.each([
    { input: 'plain', expected: 'plain' },
    { input: 'a < b', expected: 'a &lt; b' },
    { input: 'a > b', expected: 'a &gt; b' },
    { input: 'M&M', expected: 'M&amp;M' },
    { input: '<b>x</b>', expected: '&lt;b&gt;x&lt;/b&gt;' },
    { input: '&lt;', expected: '&amp;lt;' }, // & first, so no double-decoding later
    { input: '', expected: '' },
    { input: '₹ 1,000 — ok', expected: '₹ 1,000 — ok' },
  ])('escapeHtml($input) = $expected', ({ input, expected }) => {
    expect(escapeHtml(input)).toBe(expected);
  });
});

describe('htmlToPlain', () => {
  it.each([
    { html: '<b>Bold</b> and <i>italic</i>', expected: 'Bold and italic' },
    { html: '<pre>code</pre>', expected: 'code' },
    { html: '<a href="https://x.y/?a=1&amp;b=2">link</a>', expected: 'link' },
    { html: 'a &lt; b &gt; c &amp; d &quot;e&quot;', expected: 'a < b > c & d "e"' },
    { html: '&amp;lt;', expected: '&lt;' }, // not decoded twice
    { html: 'no tags', expected: 'no tags' },
  ])('htmlToPlain($html) = $expected', ({ html, expected }) => {
    expect(htmlToPlain(html)).toBe(expected);
  });

  it.each(['a < b & c > d', 'M&M <LIMIT> @ ₹100', '&amp; &lt; &gt; &quot;', 'x</pre>y<pre>', '"quoted" & <tag attr="1">'])(
    'htmlToPlain(escapeHtml(%j)) round-trips',
    (s) => {
      expect(htmlToPlain(escapeHtml(s))).toBe(s);
    },
  );
});

describe('formatInr', () => {
  it.each([
    { n: 123456.5, whole: false, expected: '₹1,23,456.50' },
    { n: 123456.5, whole: true, expected: '₹1,23,457' },
    { n: 0, whole: false, expected: '₹0.00' },
    { n: 0.5, whole: false, expected: '₹0.50' },
    { n: 999, whole: false, expected: '₹999.00' },
    { n: 1000, whole: false, expected: '₹1,000.00' },
    { n: 99999.99, whole: false, expected: '₹99,999.99' },
    { n: 100000, whole: false, expected: '₹1,00,000.00' },
    { n: 1234567.891, whole: false, expected: '₹12,34,567.89' },
    { n: 12345678, whole: true, expected: '₹1,23,45,678' },
    { n: 1_00_00_00_000, whole: true, expected: '₹1,00,00,00,000' },
    { n: -1500, whole: false, expected: '-₹1,500.00' },
    { n: -123456.5, whole: true, expected: '-₹1,23,457' },
    { n: 0.005, whole: false, expected: '₹0.01' },
    { n: 12.344, whole: false, expected: '₹12.34' },
  ])('formatInr($n, $whole) = $expected', ({ n, whole, expected }) => {
    expect(formatInr(n, whole)).toBe(expected);
  });

  it('defaults to two decimals', () => {
    expect(formatInr(7)).toBe('₹7.00');
  });
});

describe('formatNum', () => {
  it.each([
    { n: 2, expected: '2' },
    { n: 0.5, expected: '0.5' },
    { n: 142.45, expected: '142.45' },
    { n: 0.1 + 0.2, expected: '0.3' },
    { n: 1 / 3, expected: '0.3333' },
    { n: -2.5, expected: '-2.5' },
  ])('formatNum($n) = $expected', ({ n, expected }) => {
    expect(formatNum(n)).toBe(expected);
  });
});

describe('formatQty', () => {
  it.each([
    { qty: 150, lotSize: 75, expected: '2 lots (150)' },
    { qty: 75, lotSize: 75, expected: '1 lot (75)' },
    { qty: 0, lotSize: 75, expected: '0 lots (0)' },
    { qty: 100, lotSize: 75, expected: '1.3333 lots (100)' },
    { qty: 25, lotSize: 50, expected: '0.5 lots (25)' },
    { qty: 10, lotSize: 1, expected: '10' },
    { qty: 10, lotSize: 0, expected: '10' },
    { qty: 1, lotSize: 1, expected: '1' },
  ])('formatQty($qty, $lotSize) = $expected', ({ qty, lotSize, expected }) => {
    expect(formatQty(qty, lotSize)).toBe(expected);
  });
});

describe('formatAge', () => {
  it.each([
    { ms: 0, expected: '0s' },
    { ms: -5000, expected: '0s' },
    { ms: 59_400, expected: '59s' },
    { ms: 60_000, expected: '1m 0s' },
    { ms: 125_000, expected: '2m 5s' },
    { ms: 3_600_000, expected: '1h 0m' },
    { ms: 3_600_000 * 26 + 61_000, expected: '26h 1m' },
  ])('formatAge($ms) = $expected', ({ ms, expected }) => {
    expect(formatAge(ms)).toBe(expected);
  });
});

/** Every part fits, and every <pre> opened in a part is closed in the same part. */
function expectWellFormed(parts: string[], max: number): void {
  for (const p of parts) {
    expect(p.length).toBeLessThanOrEqual(max);
    const opens = (p.match(/<pre>/g) ?? []).length;
    const closes = (p.match(/<\/pre>/g) ?? []).length;
    expect(opens, `unbalanced <pre> in part: ${p.slice(0, 60)}…`).toBe(closes);
    let depth = 0;
    for (const m of p.matchAll(/<\/?pre>/g)) {
      depth += m[0] === '<pre>' ? 1 : -1;
      expect(depth).toBeGreaterThanOrEqual(0);
      expect(depth).toBeLessThanOrEqual(1);
    }
    // Telegram refuses a message whose text is empty once the markup is removed.
    expect(htmlToPlain(p).trim().length, `empty part: ${JSON.stringify(p)}`).toBeGreaterThan(0);
  }
}

/** The visible characters, in order, with the line structure removed. */
const visible = (s: string) => htmlToPlain(s).replace(/\s+/g, '');

describe('splitMessage', () => {
  it('keeps a short message whole', () => {
    expect(splitMessage('hello')).toEqual(['hello']);
  });

  it('keeps a message of exactly the limit whole', () => {
    const s = 'x'.repeat(TELEGRAM_MAX);
    expect(splitMessage(s)).toEqual([s]);
  });

  it('defaults to the Telegram limit of 4096', () => {
    expect(TELEGRAM_MAX).toBe(4096);
    const s = 'x'.repeat(4097);
    expect(splitMessage(s).length).toBeGreaterThan(1);
  });

  const line = (i: number) => `line ${String(i).padStart(4, '0')} ${'abcdefghij'.repeat(4)}`;
  const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => line(from + i));

  it.each<{ name: string; text: string; max: number }>([
    { name: 'many short lines, no markup', text: lines(0, 400).join('\n'), max: TELEGRAM_MAX },
    { name: 'a long <pre> block spanning parts', text: ['<b>Positions</b>', '<pre>', ...lines(0, 400), '</pre>', 'done'].join('\n'), max: TELEGRAM_MAX },
    { name: '<pre> opened on the first content line', text: ['<pre>' + line(0), ...lines(1, 300), line(301) + '</pre>', 'after'].join('\n'), max: TELEGRAM_MAX },
    { name: 'two <pre> blocks with text between', text: ['<pre>', ...lines(0, 150), '</pre>', 'middle', '<pre>', ...lines(150, 150), '</pre>'].join('\n'), max: TELEGRAM_MAX },
    { name: 'small max forces many parts', text: ['head', '<pre>', ...lines(0, 50), '</pre>', 'tail'].join('\n'), max: 200 },
    { name: 'a single line longer than the limit', text: 'y'.repeat(10_000), max: TELEGRAM_MAX },
    { name: 'a long line inside <pre> (just over the room)', text: ['<pre>', 'z'.repeat(TELEGRAM_MAX), '</pre>'].join('\n'), max: TELEGRAM_MAX },
    { name: 'a very long line inside <pre> (several parts)', text: ['<pre>', 'z'.repeat(3 * TELEGRAM_MAX), '</pre>'].join('\n'), max: TELEGRAM_MAX },
  ])('$name: parts fit, <pre> balanced, nothing lost', ({ text, max }) => {
    const parts = splitMessage(text, max);
    expect(parts.length).toBeGreaterThan(1);
    expectWellFormed(parts, max);
    expect(parts.map(visible).join('')).toBe(visible(text));
  });

  it('splits on line boundaries when lines are short', () => {
    const text = lines(0, 400).join('\n');
    const parts = splitMessage(text);
    for (const p of parts) for (const l of p.split('\n')) expect(l).toMatch(/^line \d{4} (abcdefghij){4}$/);
    expect(parts.join('\n')).toBe(text);
  });

  it('reopens <pre> at the start of a continuation part', () => {
    const text = ['<pre>', ...lines(0, 400), '</pre>'].join('\n');
    const parts = splitMessage(text);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) {
      expect(p.startsWith('<pre>')).toBe(true);
      expect(p.endsWith('</pre>')).toBe(true);
    }
  });
});
