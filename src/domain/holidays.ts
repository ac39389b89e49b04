/**
 * NSE trading holidays, shipped as data with their source, and the one question the day jobs ask:
 * is this IST date a trading day? Weekends and listed holidays are not; `MARKET_HOLIDAYS` adds
 * dates (a closure announced late, a year not shipped yet). Pure: no I/O, no clock.
 *
 * 2026 — NSE circular NSE/CMTR/71775 (Capital Market, Circular Ref. No. 172/2025, 12 Dec 2025),
 * "Trading holidays for the calendar year 2026"; the F&O circular NSE/FAOP/71777 of the same day
 * lists the same fifteen weekdays. https://nsearchives.nseindia.com/content/circulars/CMTR71775.pdf
 * — plus 15 Jan 2026 (Maharashtra municipal corporation elections), declared by a later circular
 * (reported 12 Jan 2026). Holidays falling on a weekend (Mahashivratri 15 Feb, Id-Ul-Fitr 21 Mar,
 * Independence Day 15 Aug, Diwali Laxmi Pujan 8 Nov) are weekends here anyway.
 *
 * 2027 — NOT PUBLISHED in anything this list was built from (NSE issues next year's circular in
 * mid-December). No date is guessed: until this file is updated, 2027 knows weekends only, and the
 * owner adds the year's dates with MARKET_HOLIDAYS (https://www.nseindia.com/resources/exchange-communication-holidays).
 *
 * Not modelled: special sessions (the Diwali Muhurat hour, the Sunday budget session of 1 Feb
 * 2026) are not trading days here; settlement holidays differ and do not matter to copying.
 */

/** Weekday NSE equity and equity-derivative trading holidays, `YYYY-MM-DD` → the occasion. */
export const NSE_HOLIDAYS: Readonly<Record<string, string>> = Object.freeze({
  '2026-01-15': 'Municipal Corporation elections, Maharashtra (declared after the annual list)',
  '2026-01-26': 'Republic Day',
  '2026-03-03': 'Holi',
  '2026-03-26': 'Shri Ram Navami',
  '2026-03-31': 'Shri Mahavir Jayanti',
  '2026-04-03': 'Good Friday',
  '2026-04-14': 'Dr. Baba Saheb Ambedkar Jayanti',
  '2026-05-01': 'Maharashtra Day',
  '2026-05-28': 'Bakri Id',
  '2026-06-26': 'Muharram',
  '2026-09-14': 'Ganesh Chaturthi',
  '2026-10-02': 'Mahatma Gandhi Jayanti',
  '2026-10-20': 'Dussehra',
  '2026-11-10': 'Diwali-Balipratipada',
  '2026-11-24': 'Prakash Gurpurb Sri Guru Nanak Dev',
  '2026-12-25': 'Christmas',
});

/** Where each shipped year's list comes from; a year absent here has no shipped list (weekends only). */
export const HOLIDAY_SOURCES: Readonly<Record<number, string>> = Object.freeze({
  2026: 'NSE circular NSE/CMTR/71775 (12 Dec 2025) and NSE/FAOP/71777, plus the 15 Jan 2026 election closure',
});

/** Years whose circular was not published when this list was made: say so rather than guess. */
export const UNPUBLISHED_YEARS: readonly number[] = [2027];

const IST_OFFSET_MS = 5.5 * 3600_000;

/** `YYYY-MM-DD` of the IST day of `ms`. */
export function istDate(ms: number): string {
  return new Date(ms + IST_OFFSET_MS).toISOString().slice(0, 10);
}

/** Why an IST date is not a trading day (`weekend`, the holiday's name, or the owner's extra date), or null when it is one. */
export function dayOff(dateIst: string, extra: readonly string[] = []): string | null {
  const day = new Date(`${dateIst}T00:00:00Z`).getUTCDay();
  if (day === 0 || day === 6) return 'weekend';
  const listed = NSE_HOLIDAYS[dateIst];
  if (listed) return listed;
  if (extra.includes(dateIst)) return 'a market holiday (MARKET_HOLIDAYS)';
  return null;
}

/** Weekdays that are not NSE holidays nor in `extra` (MARKET_HOLIDAYS). */
export function isTradingDay(dateIst: string, extra: readonly string[] = []): boolean {
  return dayOff(dateIst, extra) === null;
}

/** The check the day jobs take: is the IST day of `ms` a trading day? */
export function tradingDayCheck(extra: readonly string[] = []): (ms: number) => boolean {
  return (ms) => isTradingDay(istDate(ms), extra);
}

/** What is known of a year: its source, or a sentence saying that only weekends (and MARKET_HOLIDAYS) count. */
export function holidayCoverage(year: number): { shipped: boolean; note: string } {
  const source = HOLIDAY_SOURCES[year];
  if (source) return { shipped: true, note: source };
  const why = UNPUBLISHED_YEARS.includes(year) ? 'not published when this release was made' : 'not shipped';
  return { shipped: false, note: `NSE's ${year} holiday list is ${why}: only weekends and MARKET_HOLIDAYS are days off` };
}
