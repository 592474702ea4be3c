// Drives one load run (autocannon in a child process) and reads workerd's CPU time around it.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cpuMicros } from './runtime.mjs';

const CHILD = join(import.meta.dirname, 'load-child.mjs');
const children = new Set();

/** Kills any load generator still running (used on error and on exit). */
export function killLoadChildren() {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}

let jobCounter = 0;

/**
 * Runs one job (see load-child.mjs) against `origin` and returns its result plus `cpuUs`, the
 * CPU time (user+system, all threads) workerd spent between start and end of the run.
 */
export async function runLoad(job, { workDir, workerdPid }) {
  const file = join(workDir, `job-${++jobCounter}.json`);
  await writeFile(file, JSON.stringify(job));
  const cpuBefore = workerdPid ? cpuMicros(workerdPid) : null;
  const result = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    // Hard bound: the run's own duration plus generous slack for start-up and draining.
    const timer = setTimeout(() => child.kill('SIGKILL'), (job.seconds + 30) * 1000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      try {
        const parsed = JSON.parse(stdout.trim().split('\n').pop() || '{}');
        if (parsed.error || code !== 0)
          reject(new Error(`load generator failed (${code ?? signal}): ${parsed.error ?? stdout.slice(0, 500)}`));
        else resolve(parsed);
      } catch {
        reject(new Error(`load generator printed no result (${code ?? signal})`));
      }
    });
  });
  const cpuUs = cpuBefore === null ? null : cpuMicros(workerdPid) - cpuBefore;
  return { ...result, cpuUs };
}
