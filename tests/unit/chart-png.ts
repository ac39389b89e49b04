/** Test helper: decode a PNG (with Skia, the renderer's own library) and count the ink in a rectangle. */
import { createCanvas, loadImage } from '@napi-rs/canvas';

export type Rect = { left: number; top: number; right: number; bottom: number };

/** Pixels that are not (near) white inside a rectangle of a decoded PNG. */
export async function inkIn(png: Buffer, r: Rect): Promise<{ width: number; height: number; ink: number; pixels: Uint8ClampedArray; w: number }> {
  const img = await loadImage(png);
  const c = createCanvas(img.width, img.height);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const x = Math.round(r.left);
  const y = Math.round(r.top);
  const w = Math.round(r.right - r.left);
  const h = Math.round(r.bottom - r.top);
  const data = ctx.getImageData(x, y, w, h).data;
  let ink = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i]! < 200 || data[i + 1]! < 200 || data[i + 2]! < 200) ink++;
  return { width: img.width, height: img.height, ink, pixels: data, w };
}

/** Pixels within `tol` of an RGB colour in a decoded rectangle. */
export function countColour(pixels: Uint8ClampedArray, hex: string, tol = 40): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
  let n = 0;
  for (let i = 0; i < pixels.length; i += 4) if (Math.abs(pixels[i]! - r) <= tol && Math.abs(pixels[i + 1]! - g) <= tol && Math.abs(pixels[i + 2]! - b) <= tol) n++;
  return n;
}
