// Benchmark settings: flags (--seconds=5 or --seconds 5) over environment variables over
// defaults. The defaults keep a full run to a few minutes on 2 cores; --quick is for checking
// the harness itself (1 s runs, small counts), not for numbers.

const SETTINGS = {
  seconds: { env: 'BENCH_SECONDS', def: 10, quick: 1, help: 'length of each redirect load run (s)' },
  runs: { env: 'BENCH_RUNS', def: 3, quick: 1, help: 'alternating runs per target; medians are reported' },
  connections: { env: 'BENCH_CONNECTIONS', def: 20, quick: 20, help: 'concurrent autocannon connections' },
  warmupSeconds: { env: 'BENCH_WARMUP_SECONDS', def: 2, quick: 0.5, help: 'warm-up per target before measuring (s)' },
  postbackSeconds: { env: 'BENCH_POSTBACK_SECONDS', def: 5, quick: 1, help: 'length of each postback load run (s)' },
  coldSamples: {
    env: 'BENCH_COLD_SAMPLES',
    def: 10,
    quick: 3,
    help: 'new offers measured for the first-request latency',
  },
  ingestClicks: { env: 'BENCH_INGEST_CLICKS', def: 20_000, quick: 2_000, help: 'clicks per ingest measurement' },
  deliveries: { env: 'BENCH_DELIVERIES', def: 500, quick: 100, help: 'conversions whose notifications are timed' },
  cachePairs: {
    env: 'BENCH_CACHE_PAIRS',
    def: 100_000,
    quick: 5_000,
    help: 'distinct offer/publisher pairs for the cache memory test',
  },
  cachePublishers: {
    env: 'BENCH_CACHE_PUBLISHERS',
    def: 8,
    quick: 5,
    help: 'publisher ids those pairs are spread over',
  },
  cacheSeconds: { env: 'BENCH_CACHE_SECONDS', def: 150, quick: 30, help: 'time cap for the cache memory test (s)' },
  profileSeconds: {
    env: 'BENCH_PROFILE_SECONDS',
    def: 5,
    quick: 1,
    help: 'CPU profile of the redirect (s); 0 skips it',
  },
  profileRate: {
    env: 'BENCH_PROFILE_RATE',
    def: 500,
    quick: 500,
    help: 'offered redirects/s while profiling (postbacks: 1/20 of it)',
  },
  maxSeconds: { env: 'BENCH_MAX_SECONDS', def: 900, quick: 300, help: 'hard limit for the whole run (s)' },
};

export const SECTIONS = ['redirect', 'cold', 'postback', 'ingest', 'delivery', 'profile', 'calls', 'memory'];

export function usage() {
  const lines = Object.entries(SETTINGS).map(
    ([name, s]) => `  ${`--${kebab(name)}=N`.padEnd(22)}${s.env.padEnd(24)}${s.help} (default ${s.def})`,
  );
  return [
    'Usage: npm run bench -- [options]',
    ...lines,
    `  ${'--only=a,b'.padEnd(22)}${'BENCH_ONLY'.padEnd(24)}sections to run: ${SECTIONS.join(',')}`,
    `  ${'--out=FILE'.padEnd(22)}${'BENCH_OUT'.padEnd(24)}where to write the results (default bench/RESULTS.md)`,
    `  ${'--quick'.padEnd(22)}${'BENCH_QUICK=1'.padEnd(24)}short runs and small counts, to check the harness`,
  ].join('\n');
}

const kebab = (s) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export function parseOptions(argv, env) {
  const flags = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}\n${usage()}`);
    const eq = arg.indexOf('=');
    if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (arg === '--quick' || arg === '--help') flags.set(arg.slice(2), 'true');
    else flags.set(arg.slice(2), argv[++i]);
  }
  if (flags.has('help')) return { help: true };
  const quick = flags.get('quick') === 'true' || env.BENCH_QUICK === '1';
  const options = { quick };
  for (const [name, s] of Object.entries(SETTINGS)) {
    const raw = flags.get(kebab(name)) ?? env[s.env];
    const value = raw === undefined || raw === '' ? (quick ? s.quick : s.def) : Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${kebab(name)} must be a number >= 0`);
    options[name] = value;
  }
  for (const name of [
    'runs',
    'connections',
    'ingestClicks',
    'cachePairs',
    'cachePublishers',
    'coldSamples',
    'deliveries',
  ]) {
    options[name] = Math.max(1, Math.round(options[name]));
  }
  const only = flags.get('only') ?? env.BENCH_ONLY;
  options.sections = new Set(only ? only.split(',').map((s) => s.trim()) : SECTIONS);
  for (const s of options.sections) if (!SECTIONS.includes(s)) throw new Error(`unknown section ${s}`);
  options.out = flags.get('out') ?? env.BENCH_OUT ?? 'bench/RESULTS.md';
  return options;
}
