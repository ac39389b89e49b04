/**
 * A synthetic Dhan compact scrip master on disk (the fake Dhan's own line format: its 13 real rows
 * plus generated NIFTY options), served over loopback from the bench's main process so the child
 * that loads it pays only for the download, parse and store. Writing it is done in a short-lived
 * child too (`fork(scrip-master.ts, [path, rows])`), so its garbage never touches the main process.
 */
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { DHAN_FAKE_INSTRUMENTS, DHAN_SCRIP_MASTER_HEADER, scripMasterLine, syntheticOptionLines } from '../tests/fakes/dhan/instruments.js';

/** Write `rows` data rows (plus the header); returns the file size in bytes. */
export async function writeScripMaster(path: string, rows: number): Promise<number> {
  const out = createWriteStream(path);
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await write(`${DHAN_SCRIP_MASTER_HEADER}\n`);
  for (const i of DHAN_FAKE_INSTRUMENTS) await write(`${scripMasterLine(i)}\n`);
  let chunk = '';
  for (const line of syntheticOptionLines(Math.max(0, rows - DHAN_FAKE_INSTRUMENTS.length))) {
    chunk += `${line}\n`;
    if (chunk.length > 64_000) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  out.end();
  await once(out, 'finish');
  return statSync(path).size;
}

/** Serve one file at any path on 127.0.0.1. */
export async function serveFile(path: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/csv' });
    createReadStream(path).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api-scrip-master.csv`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

// As a child process: write the file, report its size, exit.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [path, rows] = process.argv.slice(2);
  writeScripMaster(path!, Number(rows)).then(
    (bytes) => process.send?.({ bytes }, () => process.exit(0)) ?? process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
