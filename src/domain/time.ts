/** India Standard Time helpers (UTC+05:30, no daylight saving). Pure. */
export const IST_OFFSET_MS = 5.5 * 3600_000;
const DAY = 86_400_000;

/** Epoch ms of the most recent IST midnight at or before `ms`. */
export function istDayStart(ms: number): number {
  return Math.floor((ms + IST_OFFSET_MS) / DAY) * DAY - IST_OFFSET_MS;
}

/** `HH:MM:SS` in IST. */
export function istTime(ms: number): string {
  return new Date(ms + IST_OFFSET_MS).toISOString().slice(11, 19);
}

/** `YYYY-MM-DD HH:MM` in IST. */
export function istDateTime(ms: number): string {
  const iso = new Date(ms + IST_OFFSET_MS).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/** `HH:MM` → minutes after midnight, or null when malformed (00:00–23:59). */
export function parseHhmm(s: string): number | null {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(s.trim());
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

/** Epoch ms of `HH:MM` IST on the IST day of `ms`. */
export function istAt(ms: number, hhmm: string): number {
  return istDayStart(ms) + (parseHhmm(hhmm) ?? 0) * 60_000;
}

/**
 * Market hours, for watchdogs: IST weekdays 09:00–15:35 (the pre-open to a few minutes after the
 * close). Exchange holidays are not known here and count as market days.
 */
export function isMarketHours(ms: number): boolean {
  const day = new Date(ms + IST_OFFSET_MS).getUTCDay();
  if (day === 0 || day === 6) return false;
  const minute = Math.floor((ms - istDayStart(ms)) / 60_000);
  return minute >= 9 * 60 && minute < 15 * 60 + 35;
}
