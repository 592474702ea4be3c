// Applies the real migrations to this test file's D1 database before its tests run, then makes
// every binding refuse what production refuses (test/production-limits.ts).
import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { installProductionLimits, resetKvWrites } from './production-limits';

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
await installProductionLimits(env);
resetKvWrites();
