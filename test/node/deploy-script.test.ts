// `npm run deploy` (scripts/deploy.mjs) against a stand-in wrangler on PATH (fake-wrangler.mjs)
// that keeps a Cloudflare account in a file: the first deploy on a new account creates the
// queues, takes the secrets, deploys and then migrates the database the deploy created; a
// second run changes nothing it need not and migrates before it deploys; failures stop it.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = mkdtempSync(join(tmpdir(), 'clickhop-fake-wrangler-'));
writeFileSync(
  join(bin, 'wrangler'),
  `#!/bin/sh\nexec "${process.execPath}" "${join(root, 'test', 'node', 'fake-wrangler.mjs')}" "$@"\n`,
);
chmodSync(join(bin, 'wrangler'), 0o755);
const QUEUES = [
  'clickhop-clicks',
  'clickhop-clicks-dlq',
  'clickhop-notifications',
  'clickhop-notifications-dlq',
  'clickhop-validations',
];
const MIGRATIONS = readdirSync(join(root, 'migrations')).filter((f) => f.endsWith('.sql')).length;

afterAll(() => rmSync(bin, { recursive: true, force: true }));

interface Account {
  loggedIn: boolean;
  queues: string[];
  databases: string[];
  applied: string[];
  worker: string | null;
  secrets: string[];
  kv: boolean;
  deploys: number;
  fail?: Record<string, string>;
  calls: { args: string[]; stdin: string | null }[];
}

function newAccount(overrides: Partial<Account> = {}): string {
  const path = join(bin, `account-${Math.random().toString(36).slice(2)}.json`);
  const account: Account = {
    loggedIn: true,
    queues: [],
    databases: [],
    applied: [],
    worker: null,
    secrets: [],
    kv: false,
    deploys: 0,
    calls: [],
    ...overrides,
  };
  writeFileSync(path, JSON.stringify(account));
  return path;
}

const account = (path: string): Account => JSON.parse(readFileSync(path, 'utf8')) as Account;

function deploy(state: string, args: string[] = [], env: Record<string, string> = {}) {
  return new Promise<{ code: number; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, [join(root, 'scripts', 'deploy.mjs'), ...args], {
      cwd: root,
      env: {
        PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`,
        HOME: process.env.HOME ?? '',
        FAKE_WRANGLER_STATE: state,
        WRANGLER_SEND_METRICS: 'false',
        ...env,
      } as unknown as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.end();
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.on('close', (code) => resolve({ code: code ?? 1, out, err }));
  });
}

const commands = (state: string) => account(state).calls.map((call) => call.args.join(' '));
const SECRETS = { ADMIN_TOKEN: 'admin-token-from-env', CLICK_ID_SECRET: 'click-id-secret-from-env-0123456789' };

// Each run spawns node a dozen times (the stand-in) and loads wrangler's config reader.
describe('npm run deploy', { timeout: 120_000 }, () => {
  it('deploys a new account in one run: queues, secrets, deploy (which creates D1 and KV), then migrations', async () => {
    const state = newAccount();
    const run = await deploy(state, ['--secrets-from-env'], SECRETS);
    expect(run.code, run.err).toBe(0);
    const after = account(state);
    expect(after.queues.sort()).toEqual(QUEUES);
    expect(after.secrets.sort()).toEqual(['ADMIN_TOKEN', 'CLICK_ID_SECRET']);
    expect(after.calls.filter((c) => c.args[0] === 'secret' && c.args[1] === 'put').map((c) => c.stdin)).toEqual([
      SECRETS.ADMIN_TOKEN,
      SECRETS.CLICK_ID_SECRET,
    ]);
    expect(after.deploys).toBe(1);
    expect(after.applied).toHaveLength(MIGRATIONS);
    // The database did not exist: the migrations run after the deploy that created it.
    const order = commands(state);
    expect(order.indexOf('d1 migrations apply clickhop --remote')).toBeGreaterThan(order.indexOf('deploy'));
    const lines = run.out.split('\n');
    expect(lines).toContain('1/6 Cloudflare: signed in as ops@example.com.');
    expect(lines).toContain(`2/6 Queues: ${QUEUES.map((q) => `${q} created`).join(', ')}.`);
    expect(lines).toContain('3/6 Database clickhop: not created yet; wrangler deploy creates it, migrations follow.');
    expect(lines).toContain('4/6 Secrets: ADMIN_TOKEN and CLICK_ID_SECRET are not set yet.');
    expect(lines.find((l) => l.startsWith('6/6'))).toMatch(
      new RegExp(`^6/6 Database clickhop: applied ${MIGRATIONS} migrations \\(0001_\\S+\\.sql … \\d{4}_\\S+\\.sql\\)$`),
    );
    // wrangler deploy had the terminal (its output passes through) and printed the address.
    expect(run.out).toContain('  https://clickhop.ops.workers.dev\n');
    expect(lines.at(-2)).toMatch(/^Clickhop is deployed\. Its address is the https:\/\/ line wrangler printed above/);
    // The migration tables stay out of sight; the secrets never reach the output.
    expect(run.out).not.toContain('│');
    expect(run.out + run.err).not.toContain(SECRETS.ADMIN_TOKEN);
  });

  it('runs again without changing what is there: queues kept, migrations before the deploy, no secret asked', async () => {
    const state = newAccount();
    expect((await deploy(state, ['--secrets-from-env'], SECRETS)).code).toBe(0);
    const before = account(state);
    writeFileSync(state, JSON.stringify({ ...before, calls: [] }));
    const run = await deploy(state);
    expect(run.code, run.err).toBe(0);
    const order = commands(state);
    expect(order.filter((c) => c.startsWith('secret put'))).toEqual([]);
    expect(order.indexOf('d1 migrations apply clickhop --remote')).toBeLessThan(order.indexOf('deploy'));
    expect(account(state).deploys).toBe(2);
    expect(run.out).toContain(`2/6 Queues: ${QUEUES.map((q) => `${q} exists`).join(', ')}.`);
    expect(run.out).toContain(`3/6 Database clickhop: up to date (${MIGRATIONS} migrations)`);
    expect(run.out).toContain('4/6 Secrets: ADMIN_TOKEN, CLICK_ID_SECRET are set.');
    expect(run.out).toContain('6/6 Database clickhop: migrated before the deploy (step 3).');
  });

  it('applies a new migration before deploying the code that needs it', async () => {
    const files = readdirSync(join(root, 'migrations'))
      .filter((f) => f.endsWith('.sql'))
      .sort();
    const state = newAccount({
      queues: QUEUES,
      databases: ['clickhop'],
      applied: files.slice(0, -1),
      worker: 'deployed',
      secrets: ['ADMIN_TOKEN', 'CLICK_ID_SECRET'],
      kv: true,
    });
    const run = await deploy(state);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toContain(`3/6 Database clickhop: applied 1 migration (${files.at(-1)})`);
    const order = commands(state);
    expect(order.indexOf('d1 migrations apply clickhop --remote')).toBeLessThan(order.indexOf('deploy'));
  });

  it('signs in first when wrangler is not signed in', async () => {
    const state = newAccount({ loggedIn: false });
    const run = await deploy(state, ['--secrets-from-env'], SECRETS);
    expect(run.code, run.err).toBe(0);
    expect(commands(state).slice(0, 4)).toEqual(['--version', 'whoami --json', 'login', 'whoami --json']);
  });

  it('stops before deploying when a queue cannot be created for another reason than existing', async () => {
    const state = newAccount({
      fail: {
        'queues create':
          '✘ [ERROR] A request to the Cloudflare API (/accounts/0123/queues) failed.\n\n  Queues are not enabled on this account. [code: 10000]\n',
      },
    });
    const run = await deploy(state, ['--secrets-from-env'], SECRETS);
    expect(run.code).toBe(1);
    expect(run.err).toContain('Queues are not enabled on this account.');
    expect(run.err).toContain('✘ Creating queue clickhop-clicks failed.');
    expect(account(state).deploys).toBe(0);
  });

  it('shows wrangler’s output and stops when a migration fails', async () => {
    const state = newAccount({
      queues: QUEUES,
      databases: ['clickhop'],
      worker: 'deployed',
      secrets: ['ADMIN_TOKEN', 'CLICK_ID_SECRET'],
      fail: { 'd1 migrations': 'Migration 0025_parked_messages.sql failed with the following errors:\nSQLITE_ERROR\n' },
    });
    const run = await deploy(state);
    expect(run.code).toBe(1);
    expect(run.err).toContain('Migration 0025_parked_messages.sql failed with the following errors:');
    expect(account(state).deploys).toBe(0);
  });

  it('asks for a missing secret only where there is a terminal to ask in', async () => {
    const state = newAccount();
    const run = await deploy(state);
    expect(run.code).toBe(1);
    expect(run.err).toContain('There is no terminal to ask in');
    expect(account(state).deploys).toBe(0);
  });
});
