/**
 * Streaming CSV reading for the broker instrument masters, on papaparse (issue 13 §2: measured on the
 * 220k-row master it is within a few per cent of the hand-written reader this file used to hold;
 * bench/csv-parsers.ts). Bytes in, batches of records out; the master is never held whole: the source
 * is read one chunk at a time, and not read further until the batch from the last chunk is taken.
 *
 * What it does on top of papaparse's RFC 4180 splitting (`,` separated, `"` quoted, `""` escapes):
 * - records end at LF, so CRLF works too (the CR is whitespace the kept fields are trimmed of); the
 *   line ending is fixed, not guessed, so a master mixing LF and CRLF is read right;
 * - a UTF-8 BOM at the start is dropped; bytes are decoded as UTF-8 across chunk boundaries;
 * - lines with nothing but whitespace or commas are skipped (papaparse's `skipEmptyLines: 'greedy'`);
 * - header names and the kept fields are trimmed (String#trim), other fields are not touched;
 * - an unclosed quote at the end (a truncated download) or text after a closing quote is a CsvError:
 *   reading stops there, so no partial master is loaded. (A lone quote inside an unquoted field is
 *   data, as papaparse reads it.)
 * - records may be shorter or longer than the header.
 */
import { Readable } from 'node:stream';
import Papa from 'papaparse';

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

/** papaparse's quote errors: a truncated download ends inside a quoted field (`MissingQuotes`). */
const QUOTE_ERRORS: Record<string, string> = {
  MissingQuotes: 'quote not closed at the end of the input',
  InvalidQuotes: 'unexpected text after a closing quote',
};

/** `source` as UTF-8 text, chunk by chunk (a character cut across chunks joined first); no empty chunks. */
async function* utf8Text(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<string, void, undefined> {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let first = true;
  for await (const chunk of source) {
    let s = typeof chunk === 'string' ? decoder.decode(undefined, { stream: true }) + chunk : decoder.decode(chunk, { stream: true });
    if (first && s.length > 0) {
      first = false;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    if (s.length > 0) yield s;
  }
  const rest = decoder.decode();
  if (rest.length > 0) yield first && rest.charCodeAt(0) === 0xfeff ? rest.slice(1) : rest;
}

/**
 * Read a CSV table whose first record is its header; yield its data records in batches (one batch
 * per input chunk that completes records), each record holding the values of `columns`, in that
 * order, trimmed: undefined when the header has no such column or the record is too short. Header
 * names are trimmed; if a name repeats, its last column is used. Errors of `source` propagate; a quote
 * error (see above) throws a CsvError.
 */
export async function* readCsvTable(source: AsyncIterable<Uint8Array | string>, columns: readonly string[]): AsyncGenerator<CsvRecord[], void, undefined> {
  const text = Readable.from(utf8Text(source));
  const batches: CsvRecord[][] = [];
  let failure: Error | null = null;
  let done = false;
  let wake: (() => void) | null = null;
  const signal = () => {
    const w = wake;
    wake = null;
    w?.();
  };

  let slotOf: Int32Array | null = null; // column index → slot in the record, -1 when not kept
  let records = 0; // records read, the header included
  let offset = 0; // where the text of the current chunk starts in the whole input
  Papa.parse<string[]>(text, {
    delimiter: ',',
    newline: '\n',
    quoteChar: '"',
    skipEmptyLines: 'greedy',
    chunk(res, parser) {
      // An error in the unfinished last row of a chunk is not one yet: papaparse reads that row again
      // with the next chunk (a chunk may end between a closing quote and its CR LF). Error indexes are
      // within the chunk's text, which starts where the previous chunk's `cursor` stopped.
      const start = offset;
      offset = res.meta.cursor;
      const bad = res.errors.find((e) => e.code in QUOTE_ERRORS && start + (e.index ?? 0) < res.meta.cursor);
      if (bad) {
        const line = bad.row === undefined ? records + 1 : records + bad.row + 1;
        failure = new CsvError(QUOTE_ERRORS[bad.code]!, line);
        parser.abort();
        text.destroy();
        done = true;
        signal();
        return;
      }
      const batch: CsvRecord[] = [];
      for (const row of res.data) {
        records += 1;
        if (slotOf === null) {
          const header = row.map((h) => h.trim());
          slotOf = new Int32Array(header.length).fill(-1);
          columns.forEach((name, slot) => {
            const col = header.lastIndexOf(name);
            if (col >= 0) slotOf![col] = slot;
          });
          continue;
        }
        const rec: CsvRecord = new Array<string | undefined>(columns.length);
        const n = Math.min(row.length, slotOf.length);
        for (let col = 0; col < n; col += 1) {
          const slot = slotOf[col]!;
          if (slot >= 0) rec[slot] = row[col]!.trim();
        }
        batch.push(rec);
      }
      if (batch.length > 0) {
        batches.push(batch);
        text.pause(); // backpressure: read on once the consumer has taken this batch
        signal();
      }
    },
    complete() {
      done = true;
      signal();
    },
    error(e: Error) {
      failure ??= e;
      done = true;
      signal();
    },
  });

  try {
    for (;;) {
      if (failure) throw failure;
      const batch = batches.shift();
      if (batch) {
        yield batch;
        continue;
      }
      if (done) return;
      if (text.isPaused()) text.resume();
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    if (!text.destroyed) text.destroy(); // the consumer stopped early or a read failed: release the source
  }
}
