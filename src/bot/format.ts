/** Chat formatting: HTML escaping, rupees with Indian digit grouping, lots, splitting at 4096. */

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const inr = new Intl.NumberFormat('en-IN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const inrWhole = new Intl.NumberFormat('en-IN', { maximumFractionDigits: 0 });

/** ₹1,23,456.50 — or ₹1,23,457 with `whole`. */
export function formatInr(n: number, whole = false): string {
  const sign = n < 0 ? '-' : '';
  return `${sign}₹${(whole ? inrWhole : inr).format(Math.abs(n))}`;
}

/** A number without trailing zeros: 0.5, 2, 142.45. */
export function formatNum(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(4)));
}

/** "2 lots (150)" for lot-traded instruments, "10" for shares. */
export function formatQty(qty: number, lotSize: number): string {
  if (lotSize <= 1) return String(qty);
  const lots = qty / lotSize;
  return `${formatNum(lots)} lot${lots === 1 ? '' : 's'} (${qty})`;
}

export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export const TELEGRAM_MAX = 4096;

/**
 * Split a long message into parts of at most `max` characters, on line boundaries where possible
 * (a longer line is cut), keeping a <pre> block balanced across parts: a part that ends inside
 * one closes it, and the next part reopens it.
 */
export function splitMessage(text: string, max = TELEGRAM_MAX): string[] {
  if (text.length <= max) return [text];
  const OPEN = '<pre>';
  const CLOSE = '</pre>';
  const budget = max - CLOSE.length;
  const parts: string[] = [];
  let cur = '';
  let inPre = false;
  const hasContent = () => cur !== '' && cur !== OPEN;
  const flush = () => {
    parts.push(inPre ? `${cur}${CLOSE}` : cur);
    cur = inPre ? OPEN : '';
  };
  for (const line of text.split('\n')) {
    let piece = hasContent() ? `\n${line}` : line;
    if (cur.length + piece.length > budget && hasContent()) {
      flush();
      piece = line;
    }
    while (cur.length + piece.length > budget) {
      const room = budget - cur.length;
      cur += piece.slice(0, room);
      piece = piece.slice(room);
      flush();
    }
    cur += piece;
    const opens = line.split(OPEN).length - 1;
    const closes = line.split(CLOSE).length - 1;
    if (opens > closes) inPre = true;
    else if (closes > opens) inPre = false;
  }
  if (hasContent()) parts.push(inPre ? `${cur}${CLOSE}` : cur);
  return parts;
}

/** HTML → plain text (fallback when Telegram refuses our HTML, and for the terminal console). */
export function htmlToPlain(html: string): string {
  return html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}
