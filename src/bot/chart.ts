/**
 * A small line chart as PNG, drawn in-process on a pixel buffer and encoded with pngjs (pure JS,
 * nothing downloaded at install). Labels live in the message caption; the image carries the lines,
 * a zero line and a frame.
 */
import { PNG } from 'pngjs';

export interface Series {
  name: string;
  points: { at: number; value: number }[];
}

/** Distinct, colour-blind-friendly line colours (Okabe–Ito), in series order. */
export const PALETTE: [number, number, number][] = [
  [0, 114, 178],
  [230, 159, 0],
  [0, 158, 115],
  [204, 121, 167],
  [86, 180, 233],
  [213, 94, 0],
  [240, 228, 66],
];
export const PALETTE_NAMES = ['blue', 'orange', 'green', 'pink', 'sky', 'vermilion', 'yellow'];

export function renderLineChart(series: Series[], width = 800, height = 400): Buffer {
  const png = new PNG({ width, height });
  const px = (x: number, y: number, [r, g, b]: [number, number, number]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const i = (Math.round(y) * width + Math.round(x)) * 4;
    png.data[i] = r;
    png.data[i + 1] = g;
    png.data[i + 2] = b;
    png.data[i + 3] = 255;
  };
  png.data.fill(255);
  const pad = 30;
  const all = series.flatMap((s) => s.points);
  const t0 = Math.min(...all.map((p) => p.at), Date.now());
  const t1 = Math.max(...all.map((p) => p.at), t0 + 1);
  const lo = Math.min(0, ...all.map((p) => p.value));
  const hi = Math.max(0, ...all.map((p) => p.value), lo + 1);
  const X = (t: number) => pad + ((t - t0) / (t1 - t0)) * (width - 2 * pad);
  const Y = (v: number) => height - pad - ((v - lo) / (hi - lo)) * (height - 2 * pad);
  const line = (x0: number, y0: number, x1: number, y1: number, c: [number, number, number], thick = 1) => {
    const n = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let k = 0; k <= n; k++) {
      const x = x0 + ((x1 - x0) * k) / n;
      const y = y0 + ((y1 - y0) * k) / n;
      for (let d = -Math.floor(thick / 2); d <= Math.floor(thick / 2); d++) {
        px(x, y + d, c);
        px(x + d, y, c);
      }
    }
  };
  const grey: [number, number, number] = [180, 180, 180];
  line(pad, pad, pad, height - pad, grey);
  line(pad, height - pad, width - pad, height - pad, grey);
  line(pad, Y(0), width - pad, Y(0), [120, 120, 120]);
  series.forEach((s, i) => {
    const c = PALETTE[i % PALETTE.length]!;
    const pts = [...s.points].sort((a, b) => a.at - b.at);
    let prev = { x: X(t0), y: Y(0) };
    for (const p of pts) {
      const next = { x: X(p.at), y: Y(p.value) };
      line(prev.x, prev.y, next.x, prev.y, c, 3); // step: P&L holds until the next fill
      line(next.x, prev.y, next.x, next.y, c, 3);
      prev = next;
    }
    line(prev.x, prev.y, width - pad, prev.y, c, 3);
  });
  return PNG.sync.write(png);
}
