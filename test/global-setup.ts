// Runs in Node before the workerd test runtime starts: a real HTTP receiver on 127.0.0.1 that
// plays the publisher's server. Tests script its answers and read what it received.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { TestProject } from 'vitest/node';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    receiverPort: number;
  }
}

export default async function setup(project: TestProject) {
  const received = new Map<string, ReceivedRequest[]>();
  // Scripted answers per path prefix: /script/<name>?status=500&delay_ms=100&body=...
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname === '/_received') {
        const key = url.searchParams.get('key') ?? '';
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(received.get(key) ?? []));
        return;
      }
      const key = url.pathname.split('/')[1] ?? '';
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) headers[name] = String(value);
      const list = received.get(key) ?? [];
      list.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      received.set(key, list);
      const status = Number(url.searchParams.get('status') ?? 200);
      const delay = Number(url.searchParams.get('delay_ms') ?? 0);
      const answer = () => {
        if (url.searchParams.get('close') === '1') {
          req.socket.destroy();
          return;
        }
        const location = url.searchParams.get('location');
        if (location) res.setHeader('location', location);
        const retryAfter = url.searchParams.get('retry_after');
        if (retryAfter) res.setHeader('retry-after', retryAfter);
        res.statusCode = status;
        res.end(url.searchParams.get('body') ?? 'ok');
      };
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('receiver did not bind');
  project.provide('receiverPort', address.port);
  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}
