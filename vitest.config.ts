import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

// Tests run inside workerd with real local D1, KV and Queues, configured from wrangler.toml.
// Each test file gets its own storage; test/setup.ts applies the real migrations.
export default defineConfig(async () => {
  const migrations = await readD1Migrations('./migrations');
  return {
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            ADMIN_TOKEN: 'test-admin-token',
            CLICK_ID_SECRET: 'test-click-id-secret-0123456789',
            ALLOW_PRIVATE_DESTINATIONS: 'true',
            TEST_MIGRATIONS: migrations,
            RECEIVER_PORT: inject<number>('receiverPort'),
          },
          queueConsumers: {
            'clickhop-clicks': { maxBatchTimeout: 0.05 },
            'clickhop-notifications': { maxBatchTimeout: 0.05 },
          },
        },
      })),
    ],
    test: {
      globalSetup: ['./test/global-setup.ts'],
      setupFiles: ['./test/setup.ts'],
      include: ['test/**/*.test.ts'],
      testTimeout: 20_000,
    },
  };
});
