// The 1x1 transparent GIF every pixel and impression answers with, whatever happened.

// GIF89a, 1x1, a two-colour table, a graphic control extension marking colour 0 transparent,
// one LZW-coded pixel: 43 bytes, the smallest image every browser renders.
export const GIF_BYTES = new Uint8Array([
  0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
  0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02,
  0x02, 0x44, 0x01, 0x00, 0x3b,
]);

/** The GIF, never cached (each load is an event), with any cookies to set. */
export function gifResponse(cookies: string[] = []): Response {
  const headers = new Headers({
    'Content-Type': 'image/gif',
    'Content-Length': String(GIF_BYTES.byteLength),
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
  });
  for (const cookie of cookies) headers.append('Set-Cookie', cookie);
  return new Response(GIF_BYTES.slice(), { status: 200, headers });
}
