// The screenshot checks rely on test/browser/png.ts: it must decode every PNG row filter
// exactly and refuse damaged files, or "not blank" would prove nothing.
import { crc32, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { colourCounts, decodePng } from './png';

function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Encodes rows of RGB(A) bytes, row y with filter filters[y], as a PNG file. */
function encode(width: number, rows: number[][], channels: 3 | 4, filters: number[]): Buffer {
  const stride = width * channels;
  const lines: number[] = [];
  rows.forEach((row, y) => {
    const up = y > 0 ? (rows[y - 1] as number[]) : new Array(stride).fill(0);
    const filter = filters[y] as number;
    lines.push(filter);
    for (let i = 0; i < stride; i++) {
      const x = row[i] as number;
      const a = i >= channels ? (row[i - channels] as number) : 0;
      const b = up[i] as number;
      const c = i >= channels ? (up[i - channels] as number) : 0;
      const predictor = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter] as number;
      lines.push((x - predictor) & 0xff);
    }
  });
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(rows.length, 4);
  header.writeUInt8(8, 8);
  header.writeUInt8(channels === 4 ? 6 : 2, 9);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.from(lines))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const ROWS = [
  [255, 0, 0, 0, 255, 0, 0, 0, 255],
  [10, 200, 30, 250, 250, 250, 7, 8, 9],
  [0, 0, 0, 128, 128, 128, 255, 255, 255],
  [37, 99, 235, 37, 99, 235, 21, 128, 61],
  [1, 2, 3, 200, 100, 50, 255, 0, 255],
];

describe('PNG reader for screenshot checks', () => {
  it('decodes RGB rows written with each of the five filters', () => {
    const image = decodePng(encode(3, ROWS, 3, [0, 1, 2, 3, 4]));
    expect([image.width, image.height]).toEqual([3, 5]);
    const rgb = [...image.rgba].filter((_, i) => i % 4 !== 3);
    expect(rgb).toEqual(ROWS.flat());
    expect([...image.rgba].filter((_, i) => i % 4 === 3)).toEqual(Array(15).fill(255));
    expect(colourCounts(image).get('#2563eb')).toBe(2);
  });

  it('decodes RGBA and keeps the alpha channel', () => {
    const rows = [
      [1, 2, 3, 4, 5, 6, 7, 8],
      [9, 10, 11, 12, 13, 14, 15, 16],
    ];
    expect([...decodePng(encode(2, rows, 4, [4, 3])).rgba]).toEqual(rows.flat());
  });

  it('refuses a file that is not a PNG, has a damaged chunk or is cut short', () => {
    const good = encode(3, ROWS, 3, [0, 1, 2, 3, 4]);
    expect(() => decodePng(Buffer.from('GIF89a not a png'))).toThrow(/signature/);
    const damaged = Buffer.from(good);
    damaged[45] = (damaged[45] as number) ^ 0xff; // inside the IDAT data
    expect(() => decodePng(damaged)).toThrow(/CRC/);
    expect(() => decodePng(good.subarray(0, good.length - 12))).toThrow(/IEND/);
    expect(() => decodePng(good.subarray(0, 30))).toThrow(/past the end/);
  });
});
