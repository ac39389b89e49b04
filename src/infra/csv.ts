/**
 * A small streaming CSV reader for the broker instrument masters (replaces csv-parse: a third of a
 * 220k-row scrip-master load went to it). Bytes in, records out; nothing is ever held as one big string.
 *
 * Format (RFC 4180 plus what the masters need), matching csv-parse's `trim`, `bom`,
 * `skip_empty_lines` and `relax_column_count` on these inputs:
 * - fields separated by `,`; records end at LF, so CRLF works too (the CR is trimmed as trailing
 *   whitespace; a lone CR inside a field is data);
 * - a field may be quoted: `"a, ""b""` + LF + `c"` is `a, "b"` + LF + `c`; a quote inside an unquoted
 *   field, or anything but whitespace, `,` or a line end after a closing quote, is a CsvError, as is
 *   an unclosed quote at the end (a truncated download);
 * - space, tab, CR and FF before a field (or before its opening quote) are skipped; trailing
 *   whitespace of an unquoted field is trimmed (String#trimEnd), and whitespace after a closing quote;
 * - a UTF-8 BOM at the start is dropped; lines with nothing but whitespace are skipped;
 * - records may be shorter or longer than the header.
 * Fields are decoded as UTF-8 one by one from the chunk they arrived in (so no field string keeps a
 * whole chunk alive); a field split across chunks is joined first.
 */

const COMMA = 0x2c;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const FF = 0x0c;
const VT = 0x0b;

/** Parser states. */
const FIELD_START = 0; // before a field: skipping leading whitespace
const UNQUOTED = 1; // inside an unquoted field
const QUOTED = 2; // inside a quoted field
const QUOTE_IN_QUOTED = 3; // just read a `"` inside a quoted field: an escape (`""`) or the closing quote
const AFTER_QUOTED = 4; // after a closing quote: only whitespace until `,` or the line end

/** Whitespace skipped before a field and after a closing quote (csv-parse's trim characters; LF ends the record first). */
const isLeadingSpace = (c: number) => c === SPACE || c === TAB || c === CR || c === FF;
/** ASCII whitespace trimmed after an unquoted field (String#trimEnd's ASCII set, less LF). */
const isTrailingSpace = (c: number) => c === SPACE || c === TAB || c === CR || c === FF || c === VT;

const BOM = [0xef, 0xbb, 0xbf] as const;

/** Buffer's own UTF-8 decoder, without `toString`'s argument handling (a third of the cost for a short field). */
const utf8Slice: (b: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as unknown as { utf8Slice?: unknown }).utf8Slice === 'function'
    ? (b, s, e) => (b as unknown as { utf8Slice(s: number, e: number): string }).utf8Slice(s, e)
    : (b, s, e) => b.toString('utf8', s, e);

/**
 * Most columns of an instrument master repeat from one row to the next (exchange, segment, type,
 * expiry, lot, tick, underlying; an option type alternates): each column remembers its last two
 * values, and a field whose bytes equal one of them (compared in place) reuses that string instead of
 * being decoded again. About half the parse time went to decoding before; the rows also share one
 * string per repeated value. Only values up to this many bytes are compared.
 */
const REUSE_MAX_BYTES = 32;

export class CsvError extends Error {
  constructor(
    message: string,
    /** 1-based number of the record (the header is record 1, empty lines not counted). */
    readonly record: number,
  ) {
    super(`${message} (CSV record ${record})`);
    this.name = 'CsvError';
  }
}

export type CsvRecord = (string | undefined)[];

/**
 * Push parser: `push` chunks of bytes, `end` once; `onRecord` gets every record as an array of its
 * fields. With `select`, only the chosen columns are decoded and each record is an array of exactly
 * `width` entries, undefined where the record has no such column.
 */
export class CsvParser {
  private state = FIELD_START;
  private record: CsvRecord = [];
  private col = 0;
  /** Start of the current field's bytes in the chunk being read (after an opening quote). */
  private fieldStart = 0;
  /** Bytes of the current field from earlier chunks (a field split across chunks). */
  private parts: Buffer[] = [];
  /** The current quoted field contains `""`. */
  private escaped = false;
  /** The current record has a field with content or a quote (else an LF ends an empty line). */
  private touched = false;
  private bomState: 'pending' | 'done' = 'pending';
  private bomBytes: Buffer | null = null;
  private ended = false;
  private slotOf: Int32Array | null = null;
  private width = 0;
  /** Records emitted so far (for error messages). */
  private records = 0;
  /** Per emitted column: its last value and the one before (see REUSE_MAX_BYTES). */
  private last: (string | undefined)[] = [];
  private before: (string | undefined)[] = [];

  constructor(private readonly onRecord: (fields: CsvRecord) => void) {}

  /**
   * From now on emit only some columns: `slotOf[column]` is the column's position in the emitted
   * record, or -1 to skip it; columns past the end of `slotOf` are skipped. Call between records
   * (e.g. from `onRecord` for the header).
   */
  select(slotOf: Int32Array, width: number): void {
    this.slotOf = slotOf;
    this.width = width;
    this.record = new Array<string | undefined>(width);
    this.last = new Array<string | undefined>(width);
    this.before = new Array<string | undefined>(width);
  }

  push(chunk: Uint8Array | string): void {
    if (this.ended) throw new Error('CsvParser: push after end');
    let buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.bomState === 'pending') {
      buf = this.bomBytes ? Buffer.concat([this.bomBytes, buf]) : buf;
      if (buf.length < BOM.length && BOM.every((b, i) => i >= buf.length || buf[i] === b)) {
        this.bomBytes = buf; // could still be a BOM: wait for more
        return;
      }
      this.bomBytes = null;
      this.bomState = 'done';
      if (buf[0] === BOM[0] && buf[1] === BOM[1] && buf[2] === BOM[2]) buf = buf.subarray(BOM.length);
    }
    this.scan(buf);
  }

  end(): void {
    if (this.ended) return;
    if (this.bomState === 'pending') {
      this.bomState = 'done';
      const rest = this.bomBytes;
      this.bomBytes = null;
      if (rest) this.scan(rest);
    }
    this.ended = true;
    const empty = Buffer.alloc(0);
    switch (this.state) {
      case QUOTED:
        throw new CsvError('quote not closed at the end of the input', this.records + 1);
      case UNQUOTED:
        this.finishUnquoted(empty, 0);
        this.finishRecord();
        break;
      case QUOTE_IN_QUOTED:
        this.finishQuoted(empty, 0);
        this.finishRecord();
        break;
      case AFTER_QUOTED:
        this.finishRecord();
        break;
      case FIELD_START:
        // A last line without LF: a record if it has any field (even empty ones after a comma).
        if (this.touched || this.col > 0) {
          this.store('');
          this.finishRecord();
        }
        break;
    }
  }

  private scan(buf: Buffer): void {
    const len = buf.length;
    let pos = 0;
    let state = this.state;
    let fieldStart = this.fieldStart;
    while (pos < len) {
      switch (state) {
        case FIELD_START: {
          const c = buf[pos]!;
          if (c === COMMA) {
            this.store('');
            this.col += 1;
            this.touched = true;
            pos += 1;
          } else if (c === LF) {
            if (this.touched || this.col > 0) {
              this.store('');
              this.finishRecord();
            }
            pos += 1;
          } else if (isLeadingSpace(c)) {
            pos += 1;
          } else if (c === QUOTE) {
            state = QUOTED;
            this.touched = true;
            this.escaped = false;
            pos += 1;
            fieldStart = pos;
          } else {
            state = UNQUOTED;
            this.touched = true;
            fieldStart = pos;
            pos += 1;
          }
          break;
        }
        case UNQUOTED: {
          let c = 0;
          while (pos < len) {
            c = buf[pos]!;
            if (c === COMMA || c === LF || c === QUOTE) break;
            pos += 1;
          }
          if (pos === len) break;
          if (c === QUOTE) throw new CsvError('a quote inside an unquoted field', this.records + 1);
          this.fieldStart = fieldStart;
          this.finishUnquoted(buf, pos);
          pos += 1;
          state = FIELD_START;
          if (c === COMMA) {
            this.col += 1;
          } else {
            this.finishRecord();
          }
          break;
        }
        case QUOTED: {
          const q = buf.indexOf(QUOTE, pos);
          if (q < 0) {
            pos = len;
          } else {
            pos = q + 1;
            state = QUOTE_IN_QUOTED;
          }
          break;
        }
        case QUOTE_IN_QUOTED: {
          const c = buf[pos]!;
          if (c === QUOTE) {
            this.escaped = true;
            state = QUOTED;
            pos += 1;
            break;
          }
          this.fieldStart = fieldStart;
          if (c === COMMA || c === LF) {
            this.finishQuoted(buf, pos);
            pos += 1;
            state = FIELD_START;
            if (c === COMMA) this.col += 1;
            else this.finishRecord();
          } else if (isLeadingSpace(c)) {
            this.finishQuoted(buf, pos);
            pos += 1;
            state = AFTER_QUOTED;
          } else {
            throw new CsvError(`unexpected ${JSON.stringify(String.fromCharCode(c))} after a closing quote`, this.records + 1);
          }
          break;
        }
        case AFTER_QUOTED: {
          const c = buf[pos]!;
          pos += 1;
          if (c === COMMA) {
            this.col += 1;
            state = FIELD_START;
          } else if (c === LF) {
            this.finishRecord();
            state = FIELD_START;
          } else if (!isLeadingSpace(c)) {
            throw new CsvError(`unexpected ${JSON.stringify(String.fromCharCode(c))} after a closing quote`, this.records + 1);
          }
          break;
        }
      }
    }
    // Keep the unfinished field's bytes for the next chunk.
    if (state === UNQUOTED || state === QUOTED || state === QUOTE_IN_QUOTED) {
      if (fieldStart < len) this.parts.push(buf.subarray(fieldStart));
      fieldStart = 0;
    }
    this.state = state;
    this.fieldStart = fieldStart;
  }

  /** Slot for the current column, or -1 when it is not wanted. */
  private slot(): number {
    const s = this.slotOf;
    if (s === null) return this.col;
    return this.col < s.length ? s[this.col]! : -1;
  }

  private store(value: string): void {
    const slot = this.slot();
    if (slot >= 0) this.record[slot] = value;
  }

  /** A field split across chunks: its parts joined with `buf[fieldStart, end)`. */
  private joined(buf: Buffer, end: number): Buffer {
    this.parts.push(buf.subarray(this.fieldStart, end));
    const b = Buffer.concat(this.parts);
    this.parts = [];
    return b;
  }

  /**
   * The field ending at `end` in `buf`, with its emitted column: its bytes are `b[start, e)` (the parts
   * of a field split across chunks joined first). Null for a column nobody asked for.
   */
  private field(buf: Buffer, end: number): { slot: number; b: Buffer; start: number; e: number } | null {
    const slot = this.slot();
    if (slot < 0) {
      this.parts = [];
      return null;
    }
    if (this.parts.length === 0) return { slot, b: buf, start: this.fieldStart, e: end };
    const b = this.joined(buf, end);
    return { slot, b, start: 0, e: b.length };
  }

  /** `end` is the field's end (the `,` or LF) in `buf`. */
  private finishUnquoted(buf: Buffer, end: number): void {
    const f = this.field(buf, end);
    if (!f) return;
    const { slot, b, start } = f;
    let e = f.e;
    while (e > start && isTrailingSpace(b[e - 1]!)) e -= 1;
    let v = this.decode(slot, b, start, e);
    if (e > start && b[e - 1]! >= 0x80) v = v.trimEnd(); // Unicode whitespace (NBSP, …)
    this.record[slot] = v;
  }

  /** `end` is just past the closing quote in `buf` (0 when the quote ended the previous chunk). */
  private finishQuoted(buf: Buffer, end: number): void {
    const f = this.field(buf, end);
    if (!f) return;
    let v = this.decode(f.slot, f.b, f.start, f.e - 1);
    if (this.escaped) v = v.replaceAll('""', '"');
    this.record[f.slot] = v;
  }

  /** `b[start, end)` as UTF-8 for emitted column `slot`, reusing the column's recent values. */
  private decode(slot: number, b: Buffer, start: number, end: number): string {
    const n = end - start;
    if (n <= 0) return '';
    if (n > REUSE_MAX_BYTES) return utf8Slice(b, start, end);
    const last = this.last[slot];
    if (last !== undefined && sameBytes(last, b, start, n)) return last;
    const before = this.before[slot];
    if (before !== undefined && sameBytes(before, b, start, n)) {
      this.before[slot] = last;
      this.last[slot] = before;
      return before;
    }
    const v = utf8Slice(b, start, end);
    this.before[slot] = last;
    this.last[slot] = v;
    return v;
  }

  private finishRecord(): void {
    const r = this.record;
    this.record = this.slotOf === null ? [] : new Array<string | undefined>(this.width);
    this.col = 0;
    this.touched = false;
    this.records += 1;
    this.onRecord(r);
  }
}

/**
 * Read a CSV table whose first record is its header; yield its data records in batches (one batch
 * per input chunk), each record holding the values of `columns`, in that order: undefined when the
 * header has no such column or the record is too short. Header names are trimmed; if a name repeats,
 * its last column is used (as csv-parse's `columns: true`). Errors of `source` propagate.
 */
export async function* readCsvTable(source: AsyncIterable<Uint8Array | string>, columns: readonly string[]): AsyncGenerator<CsvRecord[], void, undefined> {
  let batch: CsvRecord[] = [];
  let header = true;
  const parser = new CsvParser((rec) => {
    if (header) {
      header = false;
      const slotOf = new Int32Array(rec.length).fill(-1);
      columns.forEach((name, slot) => {
        const col = rec.lastIndexOf(name);
        if (col >= 0) slotOf[col] = slot;
      });
      parser.select(slotOf, columns.length);
      return;
    }
    batch.push(rec);
  });
  for await (const chunk of source) {
    parser.push(chunk);
    if (batch.length > 0) {
      yield batch;
      batch = [];
    }
  }
  parser.end();
  if (batch.length > 0) yield batch;
}

/**
 * `s` is exactly the `n` bytes at `b[start]`, each a char. Only an all-ASCII field can match: a
 * string decoded from UTF-8 has a char 0x80–0xFF only from a 2-byte sequence (so its length differs
 * from the byte count) and U+FFFD for invalid bytes equals no byte.
 */
function sameBytes(s: string, b: Buffer, start: number, n: number): boolean {
  if (s.length !== n) return false;
  for (let i = 0; i < n; i += 1) if (s.charCodeAt(i) !== b[start + i]) return false;
  return true;
}
