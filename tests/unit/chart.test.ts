/**
 * The chart renderer: the bundled font (its ₹ glyph read from the font's own cmap, so a system
 * font cannot stand in for it), and a PNG that decodes to the asked size with the drawn texts
 * reported.
 */
import { existsSync, readFileSync } from 'node:fs';
import { GlobalFonts } from '@napi-rs/canvas';
import { describe, expect, it } from 'vitest';
import { FONT_FAMILY, FONT_FAMILY_BOLD, fontFiles, renderChart, setUpCharts } from '../../src/bot/chart.js';
import { inkIn } from './chart-png.js';

/** Glyph id of a BMP code point in a TrueType font (cmap subtable 3/1 or 0/3, format 4); 0 = missing. */
function glyphOf(font: Buffer, codePoint: number): number {
  const tables = font.readUInt16BE(4);
  let cmap = -1;
  for (let i = 0; i < tables; i++) if (font.toString('latin1', 12 + i * 16, 16 + i * 16) === 'cmap') cmap = font.readUInt32BE(12 + i * 16 + 8);
  if (cmap < 0) throw new Error('no cmap table');
  const n = font.readUInt16BE(cmap + 2);
  for (let i = 0; i < n; i++) {
    const platform = font.readUInt16BE(cmap + 4 + i * 8);
    const encoding = font.readUInt16BE(cmap + 6 + i * 8);
    const at = cmap + font.readUInt32BE(cmap + 8 + i * 8);
    if (!((platform === 3 && encoding === 1) || (platform === 0 && encoding === 3)) || font.readUInt16BE(at) !== 4) continue;
    const segs = font.readUInt16BE(at + 6) / 2;
    const ends = at + 14;
    const starts = ends + segs * 2 + 2;
    const deltas = starts + segs * 2;
    const ranges = deltas + segs * 2;
    for (let s = 0; s < segs; s++) {
      if (font.readUInt16BE(ends + s * 2) < codePoint) continue;
      const start = font.readUInt16BE(starts + s * 2);
      if (start > codePoint) return 0;
      const delta = font.readInt16BE(deltas + s * 2);
      const range = font.readUInt16BE(ranges + s * 2);
      if (range === 0) return (codePoint + delta) & 0xffff;
      const g = font.readUInt16BE(ranges + s * 2 + range + (codePoint - start) * 2);
      return g === 0 ? 0 : (g + delta) & 0xffff;
    }
    return 0;
  }
  throw new Error('no format-4 unicode cmap');
}

describe('bundled chart font', () => {
  it('ships Noto Sans TTFs that have the rupee sign and the digits', () => {
    const files = fontFiles();
    expect(Object.keys(files)).toEqual([FONT_FAMILY, FONT_FAMILY_BOLD]);
    for (const file of Object.values(files)) {
      expect(existsSync(file)).toBe(true);
      const font = readFileSync(file);
      expect(font.readUInt32BE(0)).toBe(0x00010000); // TrueType outlines
      expect(glyphOf(font, 0x20b9)).toBeGreaterThan(0); // ₹
      for (const ch of '0123456789,-+:') expect(glyphOf(font, ch.charCodeAt(0))).toBeGreaterThan(0);
      expect(glyphOf(font, 0xe000)).toBe(0); // the check can fail: a private-use code point is not there
    }
  });

  it('is registered under its own family names, not taken from the system', () => {
    setUpCharts();
    expect(GlobalFonts.has(FONT_FAMILY)).toBe(true);
    expect(GlobalFonts.has(FONT_FAMILY_BOLD)).toBe(true);
    const regular = GlobalFonts.families.find((f) => f.family === FONT_FAMILY)!;
    expect(regular.styles.map((s) => s.weight)).toEqual([400]);
  });
});

describe('renderChart', () => {
  it('draws a PNG of the asked size and reports the texts it drew', async () => {
    const r = renderChart(
      {
        type: 'bar',
        data: { labels: ['a', 'b'], datasets: [{ label: 'series one', data: [3, 5], backgroundColor: '#0072B2' }] },
        options: { plugins: { title: { display: true, text: 'A title ₹' } } },
      },
      { width: 400, height: 300 },
    );
    expect(r.png.subarray(1, 4).toString()).toBe('PNG');
    expect(r.texts).toEqual(expect.arrayContaining(['A title ₹', 'series one', 'a', 'b']));
    const all = await inkIn(r.png, { left: 0, top: 0, right: 400, bottom: 300 });
    expect([all.width, all.height]).toEqual([400, 300]);
    const plot = await inkIn(r.png, r.area);
    expect(plot.ink).toBeGreaterThan(1000); // the bars
    // The background is painted white, not left transparent.
    expect([...all.pixels.subarray(0, 4)]).toEqual([255, 255, 255, 255]);
  });
});
