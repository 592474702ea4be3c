// What the browser tests share: Debian's Chromium and its flags, when to skip, and a running
// Clickhop (wrangler's test harness: the production bundle, local D1 migrated from migrations/,
// fresh storage) with a publisher server on loopback that accepts every notification.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { createTestHarness } from 'wrangler';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CHROMIUM = '/usr/bin/chromium';
// The flags TESTING.md lists for this closed network: without the background-networking ones
// Chromium floods it with refused connections.
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** In CI (.ci/run installs Chromium and sets CI) a missing browser is a failure, never a skip. */
export const inCi = Boolean(process.env.CI);

/** Why the browser tests of `what` skip on this machine, or null when they run. */
export function skipReason(what: string): string | null {
  if (existsSync(CHROMIUM) || inCi) return null;
  const reason = `skipped: ${CHROMIUM} is not installed (apt-get install -y chromium); CI installs it and runs this test`;
  console.warn(`${what} browser test ${reason}`);
  return reason;
}

export const launchChromium = (): Promise<Browser> =>
  chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });

export interface World {
  origin: string;
  adminToken: string;
  /** Port of the publisher server on 127.0.0.1. */
  receiverPort: number;
  db: () => Promise<D1Database>;
  /** POST to the admin API with the admin token; throws on anything but 2xx. */
  api: <T>(path: string, body: unknown) => Promise<T>;
  close: () => Promise<void>;
}

export async function startWorld(): Promise<World> {
  process.env.WRANGLER_SEND_METRICS = 'false';
  const adminToken = `browser-${randomBytes(16).toString('hex')}`;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const address = receiver.address();
  if (!address || typeof address === 'string') throw new Error('receiver did not bind');

  const server = createTestHarness({
    root: ROOT,
    workers: [
      {
        configPath: './wrangler.jsonc',
        secrets: { ADMIN_TOKEN: adminToken, CLICK_ID_SECRET: randomBytes(32).toString('base64url') },
        vars: { ALLOW_PRIVATE_DESTINATIONS: 'true' },
      },
    ],
  });
  const { url } = await server.listen();
  const worker = server.getWorker<{ DB: D1Database }>();
  await worker.applyD1Migrations('DB');
  const origin = url.origin;

  return {
    origin,
    adminToken,
    receiverPort: address.port,
    db: async () => (await worker.getEnv()).DB,
    async api<T>(path: string, body: unknown): Promise<T> {
      const response = await fetch(`${origin}/api/v1${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`POST ${path} -> ${response.status} ${text}`);
      return JSON.parse(text) as T;
    },
    async close() {
      await server.close();
      receiver.closeAllConnections();
      await new Promise<void>((r) => receiver.close(() => r()));
    },
  };
}
