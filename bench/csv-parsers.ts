/**
 * `node --expose-gc --import tsx bench/csv-parsers.ts [rows]` — tandem's instrument-master reader
 * (src/infra/csv.ts: readCsvTable on papaparse, since issue 13 §2 replaced the hand-written parser)
 * against the fastest well-kept CSV parsers on npm, on the same 220k-row
 * Dhan compact master in the same run: each streams the file (64 KiB chunks, as the download
 * arrives) and hands over the 10 columns the Dhan loader keeps, per record. Two files: the bench's
 * own master (bench/scrip-master.ts: real rows + generated NIFTY options, very repetitive), and a
 * varied one (50 underlyings, 3 exchanges, 8 expiries, futures and stocks mixed in). Rounds are
 * interleaved; the median of 5 is reported, with a checksum that every parser must match, and (with
 * --expose-gc) the heap that all 220k records hold when kept.
 *
 * The other parsers are not dependencies of tandem: install them anywhere
 * (`npm i --prefix /tmp/csvbench udsv papaparse csv-parse csv-parser @fast-csv/parse`) and point
 * CSV_BENCH_MODULES at that folder; the ones not found are skipped. To compare with another
 * readCsvTable (e.g. the hand-written one: `git show d3efc59:src/infra/csv.ts > /tmp/old-csv.ts`),
 * point CSV_BENCH_BASELINE at its file: it runs first and the ×column is relative to it.
 */
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCsvTable } from '../src/infra/csv.js';
import { DHAN_COLUMNS } from '../src/brokers/dhan/dhan-instruments.js';
import { DHAN_SCRIP_MASTER_HEADER, scripMasterLine } from '../tests/fakes/dhan/instruments.js';
import { writeScripMaster } from './scrip-master.js';

type Sink = (fields: (string | undefined)[]) => void;
/** The few parts of each library used here (they are not installed with tandem, so no type packages). */
interface UdsvParser {
  chunk(csv: string, parse: unknown, onData: (row: string[]) => void): void;
  stringArrs: unknown;
  end(): unknown;
}
interface Udsv {
  inferSchema(csv: string, opts: object): { cols: { name: string }[] };
  initParser(schema: unknown): UdsvParser;
}
interface Papa {
  parse(input: unknown, opts: object): void;
}
interface CsvParse {
  parse(opts: object): NodeJS.ReadWriteStream;
}
type Parser = { name: string; version: string; run(path: string, sink: Sink): Promise<void> };

const ROWS = Number(process.argv[2] ?? 220_000);
const ROUNDS = 5;
const MODULES = join(process.env.CSV_BENCH_MODULES ?? process.cwd(), 'node_modules');
const req = createRequire(join(MODULES, 'x.js'));
const tryRequire = <T>(name: string): { mod: T; version: string } | null => {
  try {
    return { mod: req(name) as T, version: (JSON.parse(readFileSync(join(MODULES, name, 'package.json'), 'utf8')) as { version: string }).version };
  } catch {
    return null;
  }
};

/** Column indexes of DHAN_COLUMNS in a header record. */
const indexesOf = (header: string[]) => DHAN_COLUMNS.map((c) => header.map((h) => h.trim()).lastIndexOf(c));
const pick = (rec: string[], idx: number[]) => idx.map((i) => (i >= 0 ? rec[i] : undefined));

type ReadCsvTable = typeof readCsvTable;
const BASELINE = process.env.CSV_BENCH_BASELINE;
const baseline = BASELINE ? ((await import(pathToFileURL(BASELINE).href)) as { readCsvTable: ReadCsvTable }).readCsvTable : null;

function parsers(): Parser[] {
  const out: Parser[] = [];
  if (baseline)
    out.push({
      name: `${BASELINE} (readCsvTable, baseline)`,
      version: '-',
      async run(path, sink) {
        for await (const batch of baseline(createReadStream(path), DHAN_COLUMNS)) for (const r of batch) sink(r);
      },
    });
  out.push(
    {
      name: 'src/infra/csv.ts (readCsvTable on papaparse)',
      version: 'tandem',
      async run(path, sink) {
        for await (const batch of readCsvTable(createReadStream(path), DHAN_COLUMNS)) for (const r of batch) sink(r);
      },
    },
  );
  const udsv = tryRequire<Udsv>('udsv');
  if (udsv)
    out.push({
      name: 'udsv (chunk + stringArrs, trim)',
      version: udsv.version,
      async run(path, sink) {
        const { inferSchema, initParser } = udsv.mod;
        let parser: UdsvParser | null = null;
        let idx: number[] = [];
        const stream = createReadStream(path, { encoding: 'utf8' });
        for await (const chunk of stream as AsyncIterable<string>) {
          if (!parser) {
            const schema = inferSchema(chunk, { col: ',', row: '\n', encl: '"', trim: true });
            idx = indexesOf(schema.cols.map((c) => c.name));
            parser = initParser(schema);
          }
          parser.chunk(chunk, parser.stringArrs, (row) => sink(pick(row, idx)));
        }
        parser?.end();
      },
    });
  const papa = tryRequire<Papa>('papaparse');
  if (papa)
    out.push({
      name: 'papaparse directly (Node stream, chunk callback; kept fields trimmed, quote errors thrown)',
      version: papa.version,
      run(path, sink) {
        return new Promise((resolve, reject) => {
          let idx: number[] | null = null;
          papa.mod.parse(createReadStream(path, { encoding: 'utf8' }), {
            header: false,
            skipEmptyLines: 'greedy',
            chunk: (res: { data: string[][]; errors: { code: string; row: number }[] }) => {
              // What tandem's reader does besides splitting: a bad or unclosed quote (a truncated download) is an error; the kept fields are trimmed.
              const bad = res.errors.find((e) => e.code === 'MissingQuotes' || e.code === 'InvalidQuotes');
              if (bad) throw new Error(`${bad.code} at row ${bad.row}`);
              for (const row of res.data) {
                if (!idx) idx = indexesOf(row);
                else sink(idx.map((i) => (i >= 0 ? row[i]?.trim() : undefined)));
              }
            },
            complete: () => resolve(),
            error: (e: Error) => reject(e),
          });
        });
      },
    });
  const csvParse = tryRequire<CsvParse>('csv-parse');
  if (csvParse)
    out.push({
      name: 'csv-parse (arrays, trim, bom)',
      version: csvParse.version,
      async run(path, sink) {
        let idx: number[] | null = null;
        const p = createReadStream(path).pipe(csvParse.mod.parse({ trim: true, bom: true, skip_empty_lines: true, relax_column_count: true }));
        for await (const row of p as AsyncIterable<string[]>) {
          if (!idx) idx = indexesOf(row);
          else sink(pick(row, idx));
        }
      },
    });
  const csvParser = tryRequire<(o: object) => NodeJS.ReadWriteStream>('csv-parser');
  if (csvParser)
    out.push({
      name: 'csv-parser (headers as keys)',
      version: csvParser.version,
      async run(path, sink) {
        const p = createReadStream(path).pipe(csvParser.mod({ mapHeaders: ({ header }: { header: string }) => header.trim() }));
        for await (const row of p as AsyncIterable<Record<string, string>>) sink(DHAN_COLUMNS.map((c) => row[c]?.trim()));
      },
    });
  const fast = tryRequire<CsvParse>('@fast-csv/parse');
  if (fast)
    out.push({
      name: '@fast-csv/parse (arrays, trim)',
      version: fast.version,
      async run(path, sink) {
        let idx: number[] | null = null;
        const p = createReadStream(path).pipe(fast.mod.parse({ trim: true, ignoreEmpty: true }));
        for await (const row of p as AsyncIterable<string[]>) {
          if (!idx) idx = indexesOf(row);
          else sink(pick(row, idx));
        }
      },
    });
  return out;
}

/** A varied master: stocks, futures and options of 50 underlyings on NSE/BSE/MCX, 8 expiries. */
async function writeVariedMaster(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  out.write(`${DHAN_SCRIP_MASTER_HEADER}\n`);
  const names = Array.from({ length: 50 }, (_, i) => `SYM${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + ((i * 7) % 26))}${i}`);
  const expiries = ['2026-11-26', '2026-12-31', '2027-01-28', '2026-11-06', '2026-11-13', '2026-11-20', '2027-02-25', '2027-03-25'];
  let chunk = '';
  for (let n = 0; n < rows; n += 1) {
    const name = names[(n * 31) % names.length]!;
    const exch = n % 10 < 7 ? 'NSE' : n % 10 < 9 ? 'BSE' : 'MCX';
    const kind = n % 13 === 0 ? 'EQ' : n % 13 === 1 ? 'FUT' : 'OPT';
    const expiry = expiries[(n >> 3) % expiries.length]!;
    const strike = 100 + ((n * 37) % 4000) * 5;
    const type = n % 2 === 0 ? 'CE' : 'PE';
    const lot = [1, 25, 50, 75, 250, 1250][(n * 11) % 6]!;
    chunk += `${scripMasterLine({
      exchange: exch, segmentCode: kind === 'EQ' ? 'E' : exch === 'MCX' ? 'M' : 'D', segment: kind === 'EQ' ? 'NSE_EQ' : 'NSE_FNO', securityId: String(100000 + n),
      instrumentName: kind === 'EQ' ? 'EQUITY' : kind === 'FUT' ? 'FUTSTK' : 'OPTSTK', symbol: kind === 'EQ' ? name : `${name}-${expiry}-${kind === 'FUT' ? 'FUT' : `${strike}-${type}`}`,
      customSymbol: kind === 'EQ' ? `${name} Ltd` : `${name} ${expiry} ${kind === 'FUT' ? 'FUT' : `${strike} ${type === 'CE' ? 'CALL' : 'PUT'}`}`,
      name, lotSize: kind === 'EQ' ? 1 : lot, tickSize: 0.05, tickRaw: kind === 'EQ' ? '10.0000' : '5.0000', expiry: kind === 'EQ' ? null : expiry,
      strike: kind === 'OPT' ? strike : null, optionType: kind === 'OPT' ? type : null, expiryFlag: 'M', exchInstrumentType: kind === 'EQ' ? 'ES' : kind === 'FUT' ? 'FUT' : 'OP',
      series: kind === 'EQ' ? 'EQ' : 'NA', symbolName: `${name} LIMITED`, freezeQty: null,
    })}\n`;
    if (chunk.length > 64_000) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'csv-bench-'));
  try {
    const files = { 'bench master': join(dir, 'bench.csv'), varied: join(dir, 'varied.csv') };
    await writeScripMaster(files['bench master'], ROWS);
    await writeVariedMaster(files.varied, ROWS);
    const ps = parsers();
    console.log(`node ${process.version}, ${ROWS} rows, ${ROUNDS} rounds interleaved: | parser | version | median ms | ×first | heap held by all records | output |`);
    for (const [label, path] of Object.entries(files)) {
      const times = new Map(ps.map((p) => [p.name, [] as number[]]));
      const sums = new Map<string, string>();
      for (let round = 0; round < ROUNDS; round += 1) {
        for (const p of ps) {
          (globalThis as { gc?: () => void }).gc?.();
          let rows = 0;
          let chars = 0;
          const t = performance.now();
          await p.run(path, (f) => {
            rows += 1;
            for (const v of f) chars += v?.length ?? 0;
          });
          times.get(p.name)!.push(performance.now() - t);
          sums.set(p.name, `${rows} rows/${chars} chars`);
        }
      }
      // What the records hold when kept (a field that is a slice of its chunk keeps the whole chunk alive).
      const held = new Map<string, number>();
      const gc = (globalThis as { gc?: () => void }).gc;
      for (const p of gc ? ps : []) {
        gc!();
        const before = process.memoryUsage().heapUsed;
        const kept: (string | undefined)[][] = [];
        await p.run(path, (f) => kept.push(f));
        gc!();
        held.set(p.name, (process.memoryUsage().heapUsed - before) / 1024 / 1024);
        kept.length = 0;
      }
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
      const base = med(times.get(ps[0]!.name)!);
      console.log(`\n${label}`);
      for (const p of ps) {
        const m = med(times.get(p.name)!);
        const same = sums.get(p.name) === sums.get(ps[0]!.name) ? 'same output' : `DIFFERENT: ${sums.get(p.name)}`;
        const mb = held.has(p.name) ? `${held.get(p.name)!.toFixed(0)} MB` : '-';
        console.log(`| ${p.name} | ${p.version} | ${m.toFixed(0)} | ×${(m / base).toFixed(2)} | ${mb} | ${same} |`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
