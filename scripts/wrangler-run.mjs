// Running wrangler from the project's scripts (deploy.mjs, dev.mjs): quietly with its output kept
// for when it fails, or passed through to the terminal, and the one-line summary of a
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
 * Runs wrangler. `show`: its output also goes to the terminal as it comes (it is collected
 * either way); `input`: text for its standard input, else it reads the terminal when `show`.
 * Resolves with the exit code and everything it printed; never rejects for a failing command.
 */
export function runWrangler(wrangler, args, { cwd, show = false, input, env } = {}) {
  return new Promise((resolve) => {
    const child = spawn(wrangler, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: [input !== undefined ? 'pipe' : show ? 'inherit' : 'ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (stream, echo) =>
      stream.on('data', (chunk) => {
        output += chunk;
        if (show) echo.write(chunk);
      });
    collect(child.stdout, process.stdout);
    collect(child.stderr, process.stderr);
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
