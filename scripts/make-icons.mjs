/**
 * Draws the app icons into public/ (PNG via node:zlib, plus the SVG favicon) from one geometry,
 * so the installed icon, the maskable icon and the favicon always match. Run after changing the
 * mark or the colours: `node scripts/make-icons.mjs`. The PNGs are committed.
 */
import { crc32, deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const PUBLIC = join(dirname(fileURLToPath(import.meta.url)), '..', 'public');
/** Keep in step with the manifest's theme_color in vite.config.ts. */
const THEME = [0x0f, 0x76, 0x6e];
const INK = [0xff, 0xff, 0xff];

// The relay mark in a 1×1 box: an arrow out (top, pointing right) and an arrow back (bottom,
// pointing left). Every stroke is a segment drawn with round caps, so one distance test renders it.
const STROKE = 0.075;
const SEGMENTS = [
  [0.24, 0.38, 0.76, 0.38],
  [0.64, 0.26, 0.76, 0.38],
  [0.64, 0.5, 0.76, 0.38],
  [0.76, 0.62, 0.24, 0.62],
  [0.36, 0.5, 0.24, 0.62],
  [0.36, 0.74, 0.24, 0.62],
];

function distToSegment(px, py, [ax, ay, bx, by]) {
  const dx = bx - ax,
    dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - ax - t * dx, py - ay - t * dy);
}

function insideRoundedSquare(x, y, radius) {
  const cx = Math.min(Math.max(x, radius), 1 - radius),
    cy = Math.min(Math.max(y, radius), 1 - radius);
  return Math.hypot(x - cx, y - cy) <= radius;
}

/**
 * @param size   pixels per side
 * @param corner corner radius of the background as a fraction of the side (0 = full bleed)
 * @param scale  size of the mark relative to the icon (maskable icons keep it inside the safe circle)
 */
function render(size, corner, scale) {
  const SS = 4; // 4×4 supersampling for smooth edges
  const rgba = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let bg = 0,
        ink = 0;
      for (let sy = 0; sy < SS; sy++) {
        for (let sx = 0; sx < SS; sx++) {
          const x = (px + (sx + 0.5) / SS) / size,
            y = (py + (sy + 0.5) / SS) / size;
          if (corner > 0 && !insideRoundedSquare(x, y, corner)) continue;
          const mx = (x - 0.5) / scale + 0.5,
            my = (y - 0.5) / scale + 0.5;
          if (SEGMENTS.some((s) => distToSegment(mx, my, s) <= STROKE / 2)) ink++;
          else bg++;
        }
      }
      const covered = bg + ink,
        o = (py * size + px) * 4;
      if (covered === 0) continue;
      for (let c = 0; c < 3; c++) rgba[o + c] = Math.round((THEME[c] * bg + INK[c] * ink) / covered);
      rgba[o + 3] = Math.round((255 * covered) / (SS * SS));
    }
  }
  return encodePng(size, size, rgba);
}

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

function encodePng(width, height, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
  const rows = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) rgba.copy(rows, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function svg() {
  const hex = (c) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
  const n = (v) => +(v * 512).toFixed(1);
  const d = SEGMENTS.map(([ax, ay, bx, by]) => `M${n(ax)} ${n(ay)}L${n(bx)} ${n(by)}`).join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512"><title>OpenWork Relay</title>` +
    `<rect width="512" height="512" rx="${n(0.2)}" fill="${hex(THEME)}"/>` +
    `<path d="${d}" fill="none" stroke="${hex(INK)}" stroke-width="${n(STROKE)}" stroke-linecap="round"/></svg>\n`
  );
}

const ICONS = [
  ['icon-192.png', 192, 0.2, 1],
  ['icon-512.png', 512, 0.2, 1],
  // Maskable: full bleed, mark shrunk into the 80 % safe circle.
  ['icon-maskable-512.png', 512, 0, 0.72],
  // iOS rounds the corners itself and shows transparency as black: full bleed.
  ['apple-touch-icon.png', 180, 0, 0.86],
];
for (const [name, size, corner, scale] of ICONS) writeFileSync(join(PUBLIC, name), render(size, corner, scale));
writeFileSync(join(PUBLIC, 'favicon.svg'), svg());
