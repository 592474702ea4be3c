// HMAC-SHA256 for the click path (click IDs and visitor hashes: two MACs per click), written to
// allocate nothing per MAC. Why not WebCrypto: crypto.subtle.sign is asynchronous and costs about
// 15 us a call in workerd. Why not a general hash library: a reusable keyed MAC there clones its
// hash objects per MAC and reads through DataView/subarray views of small typed arrays, which V8
// allocates off-heap; under load that garbage showed as V8 background time (about 11 us a click,
// measured in the redirect's CPU profile). Here the key's inner and outer states are computed
// once, every buffer belongs to the signer, and a MAC of a short message is two or three runs of
// the SHA-256 compression function. Output equals WebCrypto's: test/unit/crypto-pagination.test.ts
// checks RFC 4231 vectors and a property over random keys and messages.

// FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of the cube roots of the
// first 64 primes.
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

// FIPS 180-4 section 5.3.3: the initial hash value.
const IV = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

const BLOCK = 64;
const encoder = new TextEncoder();

/** One SHA-256 compression of `block[offset..offset+64)` into `state`; `w` is scratch. */
function compress(state: Int32Array, w: Int32Array, block: Uint8Array, offset: number): void {
  for (let i = 0; i < 16; i++) {
    const j = offset + i * 4;
    w[i] =
      ((block[j] as number) << 24) |
      ((block[j + 1] as number) << 16) |
      ((block[j + 2] as number) << 8) |
      (block[j + 3] as number);
  }
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15] as number;
    const y = w[i - 2] as number;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = ((w[i - 16] as number) + s0 + (w[i - 7] as number) + s1) | 0;
  }
  let a = state[0] as number;
  let b = state[1] as number;
  let c = state[2] as number;
  let d = state[3] as number;
  let e = state[4] as number;
  let f = state[5] as number;
  let g = state[6] as number;
  let h = state[7] as number;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + (K[i] as number) + (w[i] as number)) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0] as number) + a;
  state[1] = (state[1] as number) + b;
  state[2] = (state[2] as number) + c;
  state[3] = (state[3] as number) + d;
  state[4] = (state[4] as number) + e;
  state[5] = (state[5] as number) + f;
  state[6] = (state[6] as number) + g;
  state[7] = (state[7] as number) + h;
}

/** SHA-256 of a whole message, for keys longer than a block (RFC 2104: such keys are hashed). */
function sha256(message: Uint8Array): Uint8Array {
  const state = new Int32Array(IV);
  const w = new Int32Array(64);
  const padded = new Uint8Array(Math.ceil((message.length + 9) / BLOCK) * BLOCK);
  padded.set(message);
  padded[message.length] = 0x80;
  writeBitLength(padded, padded.length, message.length);
  for (let offset = 0; offset < padded.length; offset += BLOCK) compress(state, w, padded, offset);
  const out = new Uint8Array(32);
  writeState(state, out, 0, 32);
  return out;
}

/** The message length in bits, big-endian, in the last 8 bytes before `end`. */
function writeBitLength(buffer: Uint8Array, end: number, byteLength: number): void {
  const high = Math.floor(byteLength / 0x20000000);
  const low = (byteLength * 8) >>> 0;
  buffer[end - 8] = 0;
  buffer[end - 7] = 0;
  buffer[end - 6] = 0;
  buffer[end - 5] = 0;
  buffer[end - 4] = low >>> 24;
  buffer[end - 3] = (low >>> 16) & 255;
  buffer[end - 2] = (low >>> 8) & 255;
  buffer[end - 1] = low & 255;
  buffer[end - 5] = high & 255;
}

/** The first `length` bytes of a state, big-endian, into `out` at `offset`. */
function writeState(state: Int32Array, out: Uint8Array, offset: number, length: number): void {
  for (let i = 0; i < length; i++) out[offset + i] = ((state[i >> 2] as number) >>> (24 - 8 * (i & 3))) & 255;
}

/** An HMAC-SHA256 key whose inner and outer states are computed once. */
export class HmacSha256 {
  private readonly inner = new Int32Array(8);
  private readonly outer = new Int32Array(8);
  private readonly state = new Int32Array(8);
  private readonly w = new Int32Array(64);
  private readonly block = new Uint8Array(BLOCK);
  /** Message bytes of a string; grown (rarely) for a longer one. */
  private scratch = new Uint8Array(1024);

  constructor(secret: string | Uint8Array) {
    let key = typeof secret === 'string' ? encoder.encode(secret) : secret;
    if (key.length > BLOCK) key = sha256(key);
    const pad = new Uint8Array(BLOCK);
    for (const [state, xor] of [
      [this.inner, 0x36],
      [this.outer, 0x5c],
    ] as const) {
      for (let i = 0; i < BLOCK; i++) pad[i] = ((key[i] as number | undefined) ?? 0) ^ xor;
      state.set(IV);
      compress(state, this.w, pad, 0);
    }
  }

  /** The first `length` bytes (at most 32) of the MAC of `message[0..messageLength)`, into `out` at `offset`. */
  macInto(message: Uint8Array, messageLength: number, out: Uint8Array, offset: number, length: number): void {
    const { state, w, block } = this;
    state.set(this.inner);
    let at = 0;
    for (; at + BLOCK <= messageLength; at += BLOCK) compress(state, w, message, at);
    // The tail, 0x80 and the length (of the key block plus the message) in one or two blocks.
    const tail = messageLength - at;
    for (let i = 0; i < tail; i++) block[i] = message[at + i] as number;
    block[tail] = 0x80;
    block.fill(0, tail + 1);
    if (tail + 9 > BLOCK) {
      compress(state, w, block, 0);
      block.fill(0);
    }
    writeBitLength(block, BLOCK, BLOCK + messageLength);
    compress(state, w, block, 0);
    // Outer hash: the inner digest (32 bytes) fits one block with its padding.
    writeState(state, block, 0, 32);
    block[32] = 0x80;
    block.fill(0, 33);
    writeBitLength(block, BLOCK, BLOCK + 32);
    state.set(this.outer);
    compress(state, w, block, 0);
    writeState(state, out, offset, length);
  }

  /** Like macInto for a string message, encoded as UTF-8 into the signer's own buffer. */
  macStringInto(message: string, out: Uint8Array, offset: number, length: number): void {
    // UTF-8 needs at most 3 bytes per UTF-16 unit.
    if (message.length * 3 > this.scratch.length) this.scratch = new Uint8Array(message.length * 3);
    const { written } = encoder.encodeInto(message, this.scratch);
    this.macInto(this.scratch, written, out, offset, length);
  }

  /** The whole MAC as a new array (for callers off the hot path). */
  sign(data: string | Uint8Array): Uint8Array {
    const out = new Uint8Array(32);
    if (typeof data === 'string') this.macStringInto(data, out, 0, 32);
    else this.macInto(data, data.length, out, 0, 32);
    return out;
  }
}
