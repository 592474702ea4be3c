// What every section gets: the settings, the running workerd, the fixtures and a logger.
import type { Fixtures } from './fixtures.ts';
import type { Options } from './options.ts';
import type { Runtime } from './runtime.ts';

export interface BenchContext {
  opts: Options;
  rt: Runtime;
  fx: Fixtures;
  log: (message: string) => void;
  /** The bundled entry module (its source map is beside it). */
  bundlePath: string;
  workDir: string;
  loadContext: LoadContext;
}

export interface LoadContext {
  workDir: string;
  workerdPid: number | undefined;
}
