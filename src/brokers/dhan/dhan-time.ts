/** Dhan's time strings. All are IST wall-clock (UTC+05:30) with no zone marker. */

const IST_OFFSET_MS = 330 * 60_000;

/**
 * `YYYY-MM-DD HH:MM:SS` (or `YYYY-MM-DDTHH:MM:SS.sss`, or a bare date) in IST → epoch ms.
 * The `0001-01-01…` sentinel ("unset"), empty and malformed values → null.
 */
export function parseIstDateTime(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/.exec(v.trim());
  if (!m) return null;
  const year = Number(m[1]);
  if (year < 1971) return null;
  const ms = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), Number((m[7] ?? '0').padEnd(3, '0')));
  return Number.isFinite(ms) ? ms - IST_OFFSET_MS : null;
}

/** `/profile` tokenValidity, `DD/MM/YYYY HH:mm` in IST → epoch ms, or null. */
export function parseTokenValidity(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const m = /^(\d{2})\/(\d{2})\/(\d{4})(?: (\d{2}):(\d{2}))?/.exec(v.trim());
  if (!m) return null;
  const ms = Date.UTC(Number(m[3]), Number(m[2]) - 1, Number(m[1]), Number(m[4] ?? 0), Number(m[5] ?? 0));
  return Number.isFinite(ms) ? ms - IST_OFFSET_MS : null;
}

/** The `exp` claim (seconds) of a JWT, as epoch ms, without verifying it; null when absent. */
export function jwtExpiry(token: string): number | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const claims: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    const exp = (claims as { exp?: unknown } | null)?.exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/** Format epoch ms as IST `YYYY-MM-DD HH:MM:SS` (the fake server and tests use it). */
export function formatIst(ms: number): string {
  const d = new Date(ms + IST_OFFSET_MS);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}
