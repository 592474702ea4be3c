// Benchmark settings: flags (--seconds=5 or --seconds 5) over environment variables over
// defaults. The defaults keep a full run to a few minutes on 2 cores; --quick is for checking
// the harness itself (1 s runs, small counts), not for numbers.

interface Setting {
  env: string;
  def: number;
  quick: number;
  help: string;
}

const setting = (env: string, def: number, quick: number, help: string): Setting => ({ env, def, quick, help });

const SETTINGS = {
  seconds: setting('BENCH_SECONDS', 10, 1, 'length of each redirect load run (s)'),
  runs: setting('BENCH_RUNS', 3, 1, 'alternating runs per target; medians are reported'),
  connections: setting('BENCH_CONNECTIONS', 20, 20, 'concurrent autocannon connections'),
  warmupSeconds: setting('BENCH_WARMUP_SECONDS', 2, 0.5, 'warm-up per target before measuring (s)'),
  postbackSeconds: setting('BENCH_POSTBACK_SECONDS', 5, 1, 'length of each postback load run (s)'),
  coldSamples: setting('BENCH_COLD_SAMPLES', 10, 3, 'new offers measured for the first-request latency'),
  ingestClicks: setting('BENCH_INGEST_CLICKS', 20_000, 2_000, 'clicks per ingest measurement'),
  deliveries: setting('BENCH_DELIVERIES', 500, 100, 'conversions whose notifications are timed'),
  cachePairs: setting('BENCH_CACHE_PAIRS', 100_000, 5_000, 'distinct offer/publisher pairs for the cache memory test'),
  cachePublishers: setting('BENCH_CACHE_PUBLISHERS', 8, 5, 'publisher ids those pairs are spread over'),
  cacheSeconds: setting('BENCH_CACHE_SECONDS', 150, 30, 'time cap for the cache memory test (s)'),
  profileSeconds: setting('BENCH_PROFILE_SECONDS', 5, 1, 'CPU profile of the redirect (s); 0 skips it'),
  profileRate: setting('BENCH_PROFILE_RATE', 500, 500, 'offered redirects/s while profiling (postbacks: 1/20 of it)'),
  startupSamples: setting('BENCH_STARTUP_SAMPLES', 5, 2, 'fresh workerd starts per tree for the first-request cost'),
  portalSeconds: setting('BENCH_PORTAL_SECONDS', 10, 1, 'length of each portal overview run (s)'),
  portalRate: setting('BENCH_PORTAL_RATE', 5, 5, 'offered overview pages/s for the CPU per page'),
  portalDays: setting('BENCH_PORTAL_DAYS', 30, 30, 'days of rollups seeded for the portal overview'),
  portalOffers: setting('BENCH_PORTAL_OFFERS', 20, 20, 'offers seeded for the portal overview'),
  portalPublishers: setting('BENCH_PORTAL_PUBLISHERS', 50, 50, 'publishers seeded for the portal overview'),
  validationRows: setting('BENCH_VALIDATION_ROWS', 10_000, 1_000, 'rows of the bulk validation file'),
  statementConversions: setting(
    'BENCH_STATEMENT_CONVERSIONS',
    100_000,
    10_000,
    'approved conversions a statement run states',
  ),
  scaleClicks: setting(
    'BENCH_SCALE_CLICKS',
    1_000_000,
    100_000,
    'stored clicks in the large partition of the scale section',
  ),
  maxSeconds: setting('BENCH_MAX_SECONDS', 900, 300, 'hard limit for the whole run (s)'),
} satisfies Record<string, Setting>;

type SettingName = keyof typeof SETTINGS;

export const SECTIONS = [
  'size',
  'startup',
  'redirect',
  'cold',
  'postback',
  'postback-rules',
  'ingest',
  'delivery',
  'profile',
  'calls',
  'memory',
  'terms',
  'portal',
  'browser',
  'validation',
  'statements',
  'cost',
  'scale',
] as const;
export type Section = (typeof SECTIONS)[number];

export type Options = Record<SettingName, number> & {
  quick: boolean;
  sections: Set<Section>;
  out: string;
  /** A commit to measure upload size and first-request cost against ('' = none). */
  baseline: string;
};

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export function usage(): string {
  const lines = Object.entries(SETTINGS).map(
    ([name, s]) => `  ${`--${kebab(name)}=N`.padEnd(22)}${s.env.padEnd(24)}${s.help} (default ${s.def})`,
  );
  return [
    'Usage: npm run bench -- [options]',
    ...lines,
    `  ${'--only=a,b'.padEnd(22)}${'BENCH_ONLY'.padEnd(24)}sections to run: ${SECTIONS.join(',')}`,
    `  ${'--baseline=REV'.padEnd(22)}${'BENCH_BASELINE'.padEnd(24)}also measure size and startup of this commit (a temporary git worktree)`,
    `  ${'--out=FILE'.padEnd(22)}${'BENCH_OUT'.padEnd(24)}where to write the results (default bench/RESULTS.md)`,
    `  ${'--quick'.padEnd(22)}${'BENCH_QUICK=1'.padEnd(24)}short runs and small counts, to check the harness`,
  ].join('\n');
}

const isSection = (s: string): s is Section => (SECTIONS as readonly string[]).includes(s);

/** Counts that must be whole and at least 1. */
const COUNTS: readonly SettingName[] = [
  'runs',
  'connections',
  'ingestClicks',
  'cachePairs',
  'cachePublishers',
  'coldSamples',
  'deliveries',
  'startupSamples',
  'portalRate',
  'portalDays',
  'portalOffers',
  'portalPublishers',
  'validationRows',
  'statementConversions',
];

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): Options | { help: true } {
  const flags = new Map<string, string | undefined>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}\n${usage()}`);
    const eq = arg.indexOf('=');
    if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (arg === '--quick' || arg === '--help') flags.set(arg.slice(2), 'true');
    else flags.set(arg.slice(2), argv[++i]);
  }
  if (flags.has('help')) return { help: true };
  const quick = flags.get('quick') === 'true' || env.BENCH_QUICK === '1';
  const values = {} as Record<SettingName, number>;
  for (const [name, s] of Object.entries(SETTINGS) as [SettingName, Setting][]) {
    const raw = flags.get(kebab(name)) ?? env[s.env];
    const value = raw === undefined || raw === '' ? (quick ? s.quick : s.def) : Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${kebab(name)} must be a number >= 0`);
    values[name] = COUNTS.includes(name) ? Math.max(1, Math.round(value)) : value;
  }
  const only = flags.get('only') ?? env.BENCH_ONLY;
  const sections = new Set<Section>();
  for (const s of only ? only.split(',').map((x) => x.trim()) : SECTIONS) {
    if (!isSection(s)) throw new Error(`unknown section ${s}`);
    sections.add(s);
  }
  return {
    ...values,
    quick,
    sections,
    out: flags.get('out') ?? env.BENCH_OUT ?? 'bench/RESULTS.md',
    baseline: flags.get('baseline') ?? env.BENCH_BASELINE ?? '',
  };
}
