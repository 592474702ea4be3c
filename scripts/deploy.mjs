#!/usr/bin/env node
// `npm run deploy`: the first deploy on a new Cloudflare account and every later one, in one
// command, safe to run again at any point:
//   1. signs in to Cloudflare if wrangler is not signed in (`wrangler login`);
//   2. creates the queues wrangler.jsonc names that do not exist yet (wrangler provisions KV and
//      D1 itself, but not queues, and a consumer on a missing queue fails the deploy);
//   3. applies the D1 migrations, when the database exists already (before the code that needs them);
//   4. asks for each required secret the Worker does not have yet (`wrangler secret put` prompts;
//      with --secrets-from-env they are read from the environment variables of the same name);
//   5. deploys (`wrangler deploy`, which creates the KV namespace and the D1 database on the
//      first run: wrangler.jsonc names them without IDs). It has the terminal: on an account
//      that never deployed a Worker it asks for a workers.dev subdomain (without a terminal it
//      would decline and stop), and it offers to write the new IDs into wrangler.jsonc (keep
//      them or not: later deploys find the resources through the deployed Worker's bindings);
//   6. applies the migrations to a database step 5 has just created.
// Each step prints one line; wrangler's own output shows when a step fails, and for the deploy.
// docs/deploy.md shows a whole run.
// First, so that an old Node.js stops here with advice (imports run in order).
import './check-node.cjs';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findWrangler, migrationSummary, runWrangler } from './wrangler-run.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wrangler = findWrangler(root);
const secretsFromEnv = process.argv.includes('--secrets-from-env');
const run = (args, options = {}) => runWrangler(wrangler, args, { cwd: root, ...options });

/** What each required secret is, said before wrangler asks for it. */
const SECRET_HELP = {
  ADMIN_TOKEN:
    'the admin API bearer token and the dashboard password. Use a long random value (e.g. `openssl rand -base64 32`) and keep it in your password manager.',
  CLICK_ID_SECRET:
    'the key that signs click IDs. Use at least 32 random bytes (e.g. `openssl rand -base64 32`) and keep it: rotating it is a procedure (docs/deploy.md).',
};

function fail(step, output, advice) {
  if (output) process.stderr.write(output.endsWith('\n') ? output : `${output}\n`);
  console.error(`✘ ${step} failed.${advice ? ` ${advice}` : ''}`);
  process.exit(1);
}

/** The first JSON value in wrangler's output (it may print a line or two before it). */
function jsonIn(output) {
  const start = output.search(/[[{]/);
  if (start < 0) return undefined;
  try {
    return JSON.parse(output.slice(start));
  } catch {
    return undefined;
  }
}

async function readConfig() {
  // wrangler's own reader: comments, defaults and validation exactly as `wrangler deploy` sees them.
  const { unstable_readConfig } = await import('wrangler');
  const config = unstable_readConfig({ config: join(root, 'wrangler.jsonc') }, { hideWarnings: true });
  const queues = new Set();
  for (const producer of config.queues?.producers ?? []) queues.add(producer.queue);
  for (const consumer of config.queues?.consumers ?? []) {
    queues.add(consumer.queue);
    if (consumer.dead_letter_queue) queues.add(consumer.dead_letter_queue);
  }
  const database = config.d1_databases?.[0];
  if (!database?.database_name) fail('Reading wrangler.jsonc', '', 'It names no D1 database_name.');
  const migrationsDir = join(root, database.migrations_dir ?? 'migrations');
  return {
    queues: [...queues].sort(),
    database: database.database_name,
    migrations: readdirSync(migrationsDir).filter((f) => f.endsWith('.sql')).length,
    secrets: config.secrets?.required ?? [],
  };
}

async function signIn() {
  const who = await run(['whoami', '--json']);
  const user = who.code === 0 ? jsonIn(who.output) : undefined;
  if (user?.loggedIn) return user;
  if (!/loggedIn/.test(who.output)) fail('Checking the Cloudflare sign-in (wrangler whoami)', who.output);
  console.log('Not signed in to Cloudflare: wrangler login opens the browser.');
  const login = await run(['login'], { interactive: true });
  if (login.code !== 0) fail('Signing in (wrangler login)', '');
  const again = await run(['whoami', '--json']);
  const signedIn = again.code === 0 ? jsonIn(again.output) : undefined;
  if (!signedIn?.loggedIn) fail('Signing in (wrangler login)', again.output);
  return signedIn;
}

async function ensureQueue(name) {
  const created = await run(['queues', 'create', name]);
  if (created.code === 0) return 'created';
  // Already there is fine; anything else (no permission, a plan without Queues) stops the deploy.
  if (/already (exists|taken)/i.test(created.output) || (await run(['queues', 'info', name])).code === 0) {
    return 'exists';
  }
  return fail(`Creating queue ${name}`, created.output);
}

async function databaseExists(name) {
  const listed = await run(['d1', 'list', '--json']);
  const databases = listed.code === 0 ? jsonIn(listed.output) : undefined;
  if (!Array.isArray(databases)) fail('Listing D1 databases (wrangler d1 list)', listed.output);
  return databases.some((db) => db.name === name);
}

async function migrate(config, step) {
  const applied = await run(['d1', 'migrations', 'apply', config.database, '--remote']);
  if (applied.code !== 0) {
    fail(`${step}: migrations`, applied.output, 'Nothing after this step ran; fix the cause and run again.');
  }
  console.log(`${step} Database ${config.database}: ${migrationSummary(applied.output, config.migrations)}`);
}

async function setSecrets(config) {
  const listed = await run(['secret', 'list', '--format', 'json']);
  let present = [];
  if (listed.code === 0) present = (jsonIn(listed.output) ?? []).map((secret) => secret.name);
  else if (!/not found/i.test(listed.output)) fail('Listing the Worker secrets (wrangler secret list)', listed.output);
  const missing = config.secrets.filter((name) => !present.includes(name));
  if (missing.length === 0) {
    console.log(`4/6 Secrets: ${config.secrets.join(', ')} are set.`);
    return;
  }
  console.log(`4/6 Secrets: ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not set yet.`);
  for (const name of missing) {
    const fromEnv = secretsFromEnv ? process.env[name] : undefined;
    if (secretsFromEnv && !fromEnv) fail(`Setting ${name}`, '', `--secrets-from-env was given but ${name} is empty.`);
    if (!fromEnv && !process.stdin.isTTY) {
      fail(
        `Setting ${name}`,
        '',
        'There is no terminal to ask in: run npm run deploy in a terminal, or set the secrets as environment variables and run npm run deploy -- --secrets-from-env.',
      );
    }
    console.log(`    ${name}: ${SECRET_HELP[name] ?? 'a secret the Worker requires.'}`);
    const put = await run(['secret', 'put', name], fromEnv ? { input: fromEnv } : { interactive: true });
    if (put.code !== 0) fail(`Setting ${name} (wrangler secret put)`, fromEnv ? put.output : '');
  }
}

const config = await readConfig();
const version = (await run(['--version'])).output.trim().split('\n').at(-1);
console.log(`Deploying Clickhop with wrangler ${version}`);

const user = await signIn();
console.log(`1/6 Cloudflare: signed in${user.email ? ` as ${user.email}` : ''}.`);

const states = [];
for (const name of config.queues) states.push(`${name} ${await ensureQueue(name)}`);
console.log(`2/6 Queues: ${states.join(', ')}.`);

const existed = await databaseExists(config.database);
if (existed) await migrate(config, '3/6');
else console.log(`3/6 Database ${config.database}: not created yet; wrangler deploy creates it, migrations follow.`);

await setSecrets(config);

console.log('5/6 Deploying (wrangler deploy):');
const deployed = await run(['deploy'], { interactive: true });
if (deployed.code !== 0) fail('wrangler deploy', '', 'Its output above says why.');

if (existed) console.log(`6/6 Database ${config.database}: migrated before the deploy (step 3).`);
else await migrate(config, '6/6');

console.log(
  'Clickhop is deployed. Its address is the https:// line wrangler printed above; the dashboard is /dashboard there (any user name, ADMIN_TOKEN as the password).',
);
