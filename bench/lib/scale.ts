// Section "scale": one click partition at 10^4 stored clicks and at BENCH_SCALE_CLICKS (a lookup
// by ID, 100-click ingests), and one consumer batch across 64 shards. It runs
// test/limits/partition-scale.test.ts inside workerd (the vitest pool: real Durable Objects with
// SQLite), which fills the partition synthetically in the block layout, and reads the
// `SCALE {json}` lines it prints.
import { spawn } from 'node:child_process';
import { ROOT } from './runtime.ts';

export interface ScaleResult {
  sizes: {
    size: number;
    fillSeconds: number;
    megabytes: number;
    bytesPerClick: number;
    lookupMedianMs: number;
    lookupMaxMs: number;
    ingestMedianMs: number;
    ingestMaxMs: number;
    rowsWrittenPerBatch: number;
  }[];
  wide: { shards: number; clicks: number; messages: number; batchMs: number } | null;
}

export function scaleSection(clicks: number, timeoutMs: number): Promise<ScaleResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('npx', ['vitest', 'run', 'test/limits/partition-scale.test.ts'], {
      cwd: ROOT,
      env: { ...process.env, VITE_SCALE_CLICKS: String(clicks) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += String(chunk);
    });
    child.stderr.on('data', (chunk) => {
      output += String(chunk);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = [...output.matchAll(/SCALE (\{.*\})/g)].map((m) => JSON.parse(m[1] as string));
      const sizes = lines.filter((l) => 'size' in l);
      if (code !== 0 && sizes.length === 0) {
        reject(new Error(`vitest exited with ${code}: ${output.slice(-400)}`));
        return;
      }
      resolvePromise({ sizes, wide: lines.find((l) => 'shards' in l) ?? null });
    });
  });
}

export function renderScale(result: ScaleResult | undefined, error: string | undefined): string[] {
  const out = ['## Scale of one click partition', ''];
  if (error) return [...out, `Not measured: ${error}`, ''];
  if (!result) return [...out, 'Not measured: section not selected (`--only=scale`).', ''];
  out.push(
    '| stored clicks | synthetic fill | size | bytes per click | lookup by ID, median / max | 100-click ingest, median / max | rows written per ingest |',
    '|---|---|---|---|---|---|---|',
  );
  for (const s of result.sizes) {
    out.push(
      `| ${s.size.toLocaleString('en')} | ${s.fillSeconds.toFixed(1)} s | ${s.megabytes.toFixed(0)} MB | ${s.bytesPerClick.toFixed(0)} B | ${s.lookupMedianMs} / ${s.lookupMaxMs} ms | ${s.ingestMedianMs} / ${s.ingestMaxMs} ms | ${s.rowsWrittenPerBatch} |`,
    );
  }
  if (result.wide) {
    out.push(
      '',
      `A consumer batch of ${result.wide.messages} messages (${result.wide.clicks} clicks) across ${result.wide.shards} shards: ${result.wide.batchMs.toFixed(0)} ms, every click stored and counted once.`,
    );
  }
  out.push(
    '',
    'Inside workerd through the vitest pool (test/limits/partition-scale.test.ts); times are the Workers timer (1 ms steps), wall time on the shared machine, RPC included. The stored clicks are spread evenly over the week, so at 10^4 each 10-second block holds one click.',
    '',
  );
  return out;
}
