import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CsvError, CsvParser, readCsvTable, type CsvRecord } from '../../src/infra/csv.js';

/** Parse `input` fed as the given chunks (strings or byte arrays); every record as emitted. */
function parseChunks(chunks: (string | Uint8Array)[]): CsvRecord[] {
  const out: CsvRecord[] = [];
  const p = new CsvParser((r) => out.push(r));
  for (const c of chunks) p.push(c);
  p.end();
  return out;
}
const parse = (input: string) => parseChunks([input]);

/** Every way of cutting `input` in two, and in 1-byte chunks, must parse exactly as `want`. */
function expectAtEverySplit(input: string, want: CsvRecord[]): void {
  const bytes = Buffer.from(input, 'utf8');
  expect(parseChunks([bytes])).toEqual(want);
  for (let cut = 0; cut <= bytes.length; cut += 1) {
    expect(parseChunks([bytes.subarray(0, cut), bytes.subarray(cut)]), `cut at byte ${cut}`).toEqual(want);
  }
  expect(parseChunks([...bytes].map((b) => Uint8Array.of(b))), 'one byte at a time').toEqual(want);
}

async function table(chunks: (string | Buffer)[], columns: readonly string[]): Promise<CsvRecord[][]> {
  const batches: CsvRecord[][] = [];
  for await (const batch of readCsvTable(Readable.from(chunks), columns)) batches.push(batch);
  return batches;
}

describe('CsvParser', () => {
  it('splits plain records and keeps empty fields', () => {
    expect(parse('a,b,c\n1,,3\n,,\nx,y,\n')).toEqual([['a', 'b', 'c'], ['1', '', '3'], ['', '', ''], ['x', 'y', '']]);
  });

  it('reads quoted fields with commas, escaped quotes and line breaks inside', () => {
    expect(parse('id,text\n1,"a, b"\n2,"say ""hi"""\n3,"two\nlines"\n4,"crlf\r\ninside"\n5,""\n6,""""\n')).toEqual([
      ['id', 'text'],
      ['1', 'a, b'],
      ['2', 'say "hi"'],
      ['3', 'two\nlines'],
      ['4', 'crlf\r\ninside'],
      ['5', ''],
      ['6', '"'],
    ]);
  });

  it('ends records at CRLF as at LF', () => {
    expect(parse('a,b\r\n1,2\r\n"q",3\r\n')).toEqual([['a', 'b'], ['1', '2'], ['q', '3']]);
  });

  it('drops a UTF-8 BOM at the start only', () => {
    expect(parse('\uFEFFa,b\n1,2\n')).toEqual([['a', 'b'], ['1', '2']]);
    expect(parse('a,\uFEFFb\n')).toEqual([['a', '\uFEFFb']]);
    expect(parseChunks([Uint8Array.of(0xef), Uint8Array.of(0xbb), Buffer.from('\xbfa\n', 'latin1')])).toEqual([['a']]);
  });

  it('trims whitespace around fields, never inside quotes', () => {
    expect(parse('  a  ,\tb\t, c d ,  " q "  ,\u00a0n\u00a0\n')).toEqual([['a', 'b', 'c d', ' q ', '\u00a0n']]);
  });

  it('skips empty and blank lines, and needs no line end after the last record', () => {
    expect(parse('\n\na,b\n\n  \n\r\n1,2\n\n\n')).toEqual([['a', 'b'], ['1', '2']]);
    expect(parse('a,b\n1,2')).toEqual([['a', 'b'], ['1', '2']]);
    expect(parse('a,b\r\n1,2\r\n\r\n')).toEqual([['a', 'b'], ['1', '2']]);
    expect(parse('a\n""\n,\n')).toEqual([['a'], [''], ['', '']]); // a quoted empty field or a comma is a record
    expect(parse('')).toEqual([]);
    expect(parse('\n\r\n')).toEqual([]);
  });

  it('keeps short and long records as they are', () => {
    expect(parse('a,b,c\n1\n1,2,3,4\n')).toEqual([['a', 'b', 'c'], ['1'], ['1', '2', '3', '4']]);
  });

  it('decodes UTF-8, including characters cut across chunks', () => {
    expectAtEverySplit('name,city\nJosé,Zürich\n"Ωmega, ₹",日本\n', [['name', 'city'], ['José', 'Zürich'], ['Ωmega, ₹', '日本']]);
  });

  it('gives the same records wherever the chunks are cut: inside quotes, escapes, CRLF and fields', () => {
    const input = 'h1,h2,h3\r\n"a ""quoted"" field, with comma","multi\r\nline",plain\r\n  x  ,"",\r\n"end"\r\n\r\n';
    expectAtEverySplit(input, [['h1', 'h2', 'h3'], ['a "quoted" field, with comma', 'multi\r\nline', 'plain'], ['x', '', ''], ['end']]);
    expectAtEverySplit('a,"b""\nc"\n', [['a', 'b"\nc']]);
  });

  it('returns each value exactly when values repeat, alternate, share a length or are not ASCII', () => {
    const values = Array.from({ length: 20_000 }, (_, i) => [String(i), `v${i % 7}`, i % 2 ? 'CE' : 'PE', ['ab', 'ab', 'ac', 'é', 'é', 'ÿ', 'ab'][i % 7]!]);
    expect(parse(values.map((r) => r.join(',')).join('\n'))).toEqual(values);
    // Invalid UTF-8 decodes to U+FFFD each time, never to a remembered value of the same length.
    const bytes = Buffer.concat([Buffer.from('a\n'), Buffer.from([0xff, 0xff, 0x0a, 0xff, 0xff, 0x0a]), Buffer.from('ab\n')]);
    expect(parseChunks([bytes])).toEqual([['a'], ['\uFFFD\uFFFD'], ['\uFFFD\uFFFD'], ['ab']]);
  });

  it('throws a CsvError on an unclosed quote, a stray quote or text after a closing quote', () => {
    expect(() => parse('a,b\n1,"open\n')).toThrow(CsvError);
    expect(() => parse('a,b\n1,"open\n')).toThrow(/quote not closed.*record 2/);
    expect(() => parse('a,b\n1,x"y\n')).toThrow(/quote inside an unquoted field/);
    expect(() => parse('a,b\n1,"x"y\n')).toThrow(/after a closing quote/);
    expect(() => parse('a,b\n1,"x" y\n')).toThrow(/after a closing quote/);
  });
});

describe('readCsvTable', () => {
  it('maps header names to columns once and yields the chosen columns in the asked order', async () => {
    const batches = await table([' b , a ,c\n2,1,3\n5,4,6\n'], ['a', 'c', 'missing']);
    expect(batches).toEqual([[['1', '3', undefined], ['4', '6', undefined]]]);
  });

  it('leaves what a short record lacks undefined, ignores extra fields, uses the last of repeated names', async () => {
    const batches = await table(['a,b,a\n1\n1,2,3,4\n'], ['a', 'b']);
    expect(batches.flat()).toEqual([[undefined, undefined], ['3', '2']]);
  });

  it('yields one batch per chunk that completes records, across chunk boundaries', async () => {
    const batches = await table(['a,b\n1,2\n3,', '4\n5', ',6', '\n7,"8\n', '"\n'], ['b', 'a']);
    expect(batches).toEqual([[['2', '1']], [['4', '3']], [['6', '5']], [['8\n', '7']]]);
  });

  it('yields nothing for an empty body or a header alone', async () => {
    expect(await table([], ['a'])).toEqual([]);
    expect(await table(['a,b\r\n'], ['a'])).toEqual([]);
  });

  it('passes on the source error', async () => {
    const source = new Readable({ read() {} });
    source.push('a,b\n1,2\n');
    setImmediate(() => source.destroy(new Error('socket hang up')));
    const seen: CsvRecord[] = [];
    await expect(async () => {
      for await (const batch of readCsvTable(source, ['a'])) seen.push(...batch);
    }).rejects.toThrow('socket hang up');
    expect(seen).toEqual([['1']]);
  });
});
