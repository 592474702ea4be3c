// A strict PNG reader for screenshot checks: verifies the signature, every chunk's CRC and the
// chunk order, and decodes 8-bit RGB/RGBA non-interlaced images (what Chromium writes) into
// pixels, so a test can tell a rendered page from a blank or broken one.
import { crc32, inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface DecodedPng {
  width: number;
  height: number;
  /** RGBA, 4 bytes a pixel, row after row. */
  rgba: Uint8Array;
}

export function decodePng(file: Uint8Array): DecodedPng {
  const data = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (data.length < 8 || !data.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG: bad signature');
  let offset = 8;
  let header: { width: number; height: number; depth: number; colour: number; interlace: number } | undefined;
  const idat: Buffer[] = [];
  let ended = false;
  while (offset < data.length) {
    if (offset + 12 > data.length) throw new Error('PNG chunk header runs past the end');
    const length = data.readUInt32BE(offset);
    const type = data.toString('latin1', offset + 4, offset + 8);
    const end = offset + 12 + length;
    if (end > data.length) throw new Error(`PNG chunk ${type} runs past the end`);
    const body = data.subarray(offset + 8, offset + 8 + length);
    const crc = data.readUInt32BE(offset + 8 + length);
    if (crc32(data.subarray(offset + 4, offset + 8 + length)) !== crc) throw new Error(`PNG chunk ${type}: bad CRC`);
    if (header === undefined && type !== 'IHDR') throw new Error('PNG does not start with IHDR');
    if (type === 'IHDR') {
      header = {
        width: body.readUInt32BE(0),
        height: body.readUInt32BE(4),
        depth: body.readUInt8(8),
        colour: body.readUInt8(9),
        interlace: body.readUInt8(12),
      };
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      ended = end === data.length;
      if (!ended) throw new Error('data after IEND');
    }
    offset = end;
  }
  if (!header) throw new Error('PNG has no IHDR');
  if (!ended) throw new Error('PNG has no IEND');
  const { width, height, depth, colour, interlace } = header;
  if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace !== 0) {
    throw new Error(`unsupported PNG: depth ${depth}, colour type ${colour}, interlace ${interlace}`);
  }
  const channels = colour === 6 ? 4 : 3;
  const stride = width * channels;
  const raw = inflateSync(Buffer.concat(idat));
  if (raw.length !== height * (stride + 1)) throw new Error('PNG image data has the wrong size');

  const rgba = new Uint8Array(width * height * 4);
  let previous = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const current = new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const left = i >= channels ? (current[i - channels] as number) : 0;
      const up = previous[i] as number;
      const upLeft = i >= channels ? (previous[i - channels] as number) : 0;
      const x = line[i] as number;
      let value: number;
      if (filter === 0) value = x;
      else if (filter === 1) value = x + left;
      else if (filter === 2) value = x + up;
      else if (filter === 3) value = x + ((left + up) >> 1);
      else if (filter === 4) value = x + paeth(left, up, upLeft);
      else throw new Error(`PNG row ${y}: unknown filter ${filter}`);
      current[i] = value & 0xff;
    }
    for (let px = 0; px < width; px++) {
      const to = (y * width + px) * 4;
      const from = px * channels;
      rgba[to] = current[from] as number;
      rgba[to + 1] = current[from + 1] as number;
      rgba[to + 2] = current[from + 2] as number;
      rgba[to + 3] = channels === 4 ? (current[from + 3] as number) : 255;
    }
    previous = current;
  }
  return { width, height, rgba };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/** How many pixels have each colour, keyed '#rrggbb' (alpha ignored). */
export function colourCounts(image: DecodedPng): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < image.rgba.length; i += 4) {
    const key = `#${(((image.rgba[i] as number) << 16) | ((image.rgba[i + 1] as number) << 8) | (image.rgba[i + 2] as number)).toString(16).padStart(6, '0')}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}
