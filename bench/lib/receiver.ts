// A publisher's notification receiver on 127.0.0.1: answers 200 at once and records when each
// delivery arrived (ms since the epoch), its webhook-id (so retries of one delivery are not
// counted twice) and the conversion_id it carries (to time conversion -> notification).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { epochNow } from './stats.ts';

export interface Receiver {
  url: string;
  arrivals: number[];
  ids: Set<string>;
  /** conversion_id -> first arrival (ms since the epoch). */
  byConversion: Map<string, number>;
  close: () => Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const arrivals: number[] = [];
  const ids = new Set<string>();
  const byConversion = new Map<string, number>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => {
      if (chunks.length < 64) chunks.push(chunk);
    });
    request.on('end', () => {
      const at = epochNow();
      const id = request.headers['webhook-id'] ?? `${request.method} ${request.url}`;
      arrivals.push(at);
      ids.add(String(id));
      const conversionId = findConversionId(Buffer.concat(chunks).toString('utf8'), request.url ?? '');
      if (conversionId && !byConversion.has(conversionId)) byConversion.set(conversionId, at);
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/clickhop`,
    arrivals,
    ids,
    byConversion,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The conversion_id in a JSON body (at any depth), a form body or the query string. */
function findConversionId(body: string, url: string): string | null {
  try {
    const found = search(JSON.parse(body), 0);
    if (found) return found;
  } catch {}
  for (const text of [body, url.slice(url.indexOf('?') + 1)]) {
    const value = new URLSearchParams(text).get('conversion_id');
    if (value) return value;
  }
  return null;
}

function search(value: unknown, depth: number): string | null {
  if (depth > 4 || value === null || typeof value !== 'object') return null;
  const record = value as Record<string, unknown>;
  if (typeof record.conversion_id === 'string') return record.conversion_id;
  for (const child of Object.values(record)) {
    const found = search(child, depth + 1);
    if (found) return found;
  }
  return null;
}
