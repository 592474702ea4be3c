// Bindings only the test runtime has (see vitest.config.ts).
interface ClickhopTestBindings {
  TEST_MIGRATIONS: import('cloudflare:test').D1Migration[];
  RECEIVER_PORT: number;
}

declare namespace Cloudflare {
  interface Env extends ClickhopTestBindings {}
}
