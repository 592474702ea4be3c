// Running wrangler from the project's scripts (deploy.mjs, dev.mjs): quietly with its output kept
// for when it fails, or with the terminal to itself, and the one-line summary of a
// `d1 migrations apply` (whose per-migration tables run to hundreds of lines).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The wrangler to run: the first on PATH (`npm run` puts the project's own first, and a test can
 * put a stand-in before it), else the project's own.
 */
export function findWrangler(root) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'wrangler'))) return join(dir, 'wrangler');
  }
  return join(root, 'node_modules', '.bin', 'wrangler');
}

/**
 * Runs wrangler, by default quietly: its output is collected, not shown (wrangler then sees no
 * terminal, so it asks nothing and takes its defaults). `interactive`: it has the terminal to
 * itself, to ask (`wrangler login`, a secret's value, a workers.dev subdomain) and to show its
 * output, and nothing is collected; `input`: text for its standard input.
 * Resolves with the exit code and what it printed; never rejects for a failing command.
 */
export function runWrangler(wrangler, args, { cwd, interactive = false, input, env } = {}) {
  return new Promise((resolve) => {
    const child = spawn(wrangler, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: interactive ? 'inherit' : [input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    if (interactive) {
      child.on('error', (error) => resolve({ code: 127, output: `${error.message}\n` }));
      child.on('close', (code) => resolve({ code: code ?? 1, output: '' }));
      return;
    }
    let output = '';
    const collect = (stream) =>
      stream.on('data', (chunk) => {
        output += chunk;
      });
    collect(child.stdout);
    collect(child.stderr);
    if (input !== undefined) child.stdin.end(input);
    child.on('error', (error) => resolve({ code: 127, output: `${output}${error.message}\n` }));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

const MIGRATION_FILE = /\b\d{4}_[A-Za-z0-9_-]+\.sql\b/g;

/** One line for a successful `d1 migrations apply`: what it applied, or that nothing was due. */
export function migrationSummary(output, total) {
  if (/No migrations to apply/.test(output)) return `up to date (${total} migrations)`;
  const applied = [...new Set(output.match(MIGRATION_FILE) ?? [])].sort();
  if (applied.length === 0) return `up to date (${total} migrations)`;
  const names = applied.length === 1 ? applied[0] : `${applied[0]} … ${applied.at(-1)}`;
  return `applied ${applied.length} ${applied.length === 1 ? 'migration' : 'migrations'} (${names})`;
}
