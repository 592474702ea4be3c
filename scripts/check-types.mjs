#!/usr/bin/env node
// `npm run types:check` (run by CI): fails when worker-configuration.d.ts is not what
// `npm run types` would write now. `wrangler types --check` compares only the config hash in the
// header, so a hand edit or a new workerd's runtime types would slip past it; this regenerates
// next to the real file (imports in it are relative to its folder) and compares the text.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const committed = 'worker-configuration.d.ts';
const fresh = 'worker-configuration.check.d.ts';

// The flags come from package.json's "types" script, so the two can never disagree.
const run = spawnSync('npm', ['run', '--silent', 'types', '--', fresh], {
  cwd: root,
  encoding: 'utf8',
  env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
});
let problem = '';
if (run.status !== 0) {
  process.stderr.write(run.stdout + run.stderr);
  problem = '`wrangler types` failed';
} else {
  // The header names the output file; everything else must match byte for byte.
  const expected = readFileSync(join(root, fresh), 'utf8').replace(` ${fresh}\``, '`');
  const actual = readFileSync(join(root, committed), 'utf8');
  if (expected !== actual) problem = `${committed} is stale; run \`npm run types\` and commit the result.`;
}
rmSync(join(root, fresh), { force: true });
if (problem) {
  console.error(`types:check: ${problem}`);
  process.exit(1);
}
console.log(`types:check: ${committed} is up to date.`);
