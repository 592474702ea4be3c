import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { configDefaults, defineConfig } from 'vitest/config';

// Two test projects, both run by `npx vitest run`:
// - workers: tests run inside workerd with real local D1, KV and Queues, configured from
//   wrangler.jsonc. Each test file gets its own storage; test/setup.ts applies the real migrations.
// - node: Node tests: test/browser starts the Worker for real (wrangler's test harness) and drives
//   it from headless Chromium (playwright-core); test/node checks artefacts with Node-only tools.
//   They run after the workers project, so the two never compete for the CPU.
// The test secrets. Also put in process.env (when not set), where wrangler looks for the secrets
// wrangler.jsonc requires: without them it warns "Missing required secrets" once per test file.
const TEST_SECRETS = { ADMIN_TOKEN: 'test-admin-token', CLICK_ID_SECRET: 'test-click-id-secret-0123456789' };
for (const [name, value] of Object.entries(TEST_SECRETS)) process.env[name] ??= value;

export default defineConfig(async () => {
  const migrations = await readD1Migrations('./migrations');
  return {
    test: {
      // The Worker's own structured info and warn lines (a delivery attempt, a refused postback)
      // are what the tests provoke and assert through spies; printed, they bury the result.
      // Error lines and anything else still print.
      onConsoleLog: (line: string) => !/^\s*\{"level":"(info|warn)"/.test(line),
      projects: [
        {
          extends: false,
          plugins: [
            cloudflareTest(({ inject }) => ({
              wrangler: { configPath: './wrangler.jsonc' },
              miniflare: {
                bindings: {
                  ...TEST_SECRETS,
                  ALLOW_PRIVATE_DESTINATIONS: 'true',
                  TEST_MIGRATIONS: migrations,
                  RECEIVER_PORT: inject<number>('receiverPort'),
                },
                queueConsumers: {
                  'clickhop-clicks': { maxBatchTimeout: 0.05 },
                  'clickhop-notifications': { maxBatchTimeout: 0.05 },
                  'clickhop-validations': { maxBatchTimeout: 0.05 },
                },
              },
            })),
          ],
          test: {
            name: 'workers',
            globalSetup: ['./test/global-setup.ts'],
            setupFiles: ['./test/setup.ts'],
            include: ['test/**/*.test.ts'],
            exclude: [...configDefaults.exclude, 'test/browser/**', 'test/node/**'],
            testTimeout: 20_000,
          },
        },
        {
          extends: false,
          test: {
            name: 'node',
            environment: 'node',
            include: ['test/browser/**/*.browser.test.ts', 'test/node/**/*.test.ts'],
            sequence: { groupOrder: 1 },
            testTimeout: 60_000,
            hookTimeout: 180_000,
          },
        },
      ],
    },
  };
});
