// Summarises a V8 CPU profile of the Clickhop isolate (Profiler domain over workerd's inspector):
// time per request spent in each function, self and inclusive, mapped back to src/ through the
// bundle's source map.
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { ROOT } from './runtime.ts';

/** The parts of a DevTools `Profiler.Profile` read here. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
  }[];
  samples?: number[];
  timeDeltas?: number[];
}

type CallFrame = CpuProfile['nodes'][number]['callFrame'];

interface Label {
  name: string;
  where: string;
  ours: boolean;
  native: boolean;
}

export interface ProfileRow {
  label: string;
  ours: boolean;
  selfUs: number;
  totalUs: number;
}

export interface ProfileSummary {
  rows: ProfileRow[];
  jsUsPerRequest: number;
  otherUsPerRequest: number;
  sampleCount: number;
  intervalUs: number;
}

interface Bundle {
  map: SourceMap;
  /** The bundle's lines, to find a minified name's own position. */
  lines: string[];
}

function loadBundle(bundlePath: string): Bundle | null {
  try {
    const map = new SourceMap(JSON.parse(readFileSync(`${bundlePath}.map`, 'utf8')));
    return { map, lines: readFileSync(bundlePath, 'utf8').split('\n') };
  } catch {
    return null;
  }
}

/**
 * The source name of a function in a minified bundle. The frame points at the function's start;
 * the source map names the identifier at its own position, so the nearest occurrence of the
 * minified name on that line, at or before the start, is looked up.
 */
function originalName(bundle: Bundle, frame: CallFrame): string | undefined {
  const name = frame.functionName;
  const line = bundle.lines[frame.lineNumber];
  if (!name || !line) return undefined;
  const pattern = new RegExp(`(?<![\\w$])${name.replace(/[$]/g, '\\$')}(?![\\w$])`, 'g');
  let best: number | undefined;
  for (const match of line.slice(0, frame.columnNumber + name.length + 1).matchAll(pattern)) best = match.index;
  if (best === undefined || frame.columnNumber - best > 300) return undefined;
  const entry = bundle.map.findEntry(frame.lineNumber, best);
  return 'name' in entry && typeof entry.name === 'string' ? entry.name : undefined;
}

function sourceLabel(bundle: Bundle | null, bundleDir: string, frame: CallFrame): Label {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url || frame.lineNumber < 0) return { name, where: '', ours: false, native: !frame.url };
  if (bundle && /index\.js$/.test(frame.url)) {
    const entry = bundle.map.findEntry(frame.lineNumber, frame.columnNumber);
    if ('originalSource' in entry && entry.originalSource) {
      const file = resolve(bundleDir, entry.originalSource.replace(/^file:\/\//, ''));
      const rel = relative(ROOT, file);
      const where = `${rel.replace(/^.*node_modules\//, '')}:${entry.originalLine + 1}`;
      return { name: originalName(bundle, frame) ?? name, where, ours: rel.startsWith('src/'), native: false };
    }
  }
  return { name, where: frame.url.split('/').pop() ?? '', ours: false, native: false };
}

// Samples that are not JavaScript work of this isolate: '(idle)' and '(program)' (workerd
// does not mark its event-loop waits as idle, so they show up as '(program)' too).
const NOT_JS = new Set(['(idle)', '(program)', '(root)']);

/**
 * Each sample counts as one median sampling interval. (Weighting by timeDeltas would be wrong
 * here: V8 samples only while the isolate is running, so a gap — time spent in other isolates
 * or idle — would be billed to whichever sample comes after it.) Rows are in µs per request.
 */
export function summariseProfile(
  profile: CpuProfile,
  { bundlePath, requests }: { bundlePath: string; requests: number },
): ProfileSummary {
  const bundle = loadBundle(bundlePath);
  const bundleDir = dirname(bundlePath);
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const labels = new Map<number, Label & { key: string }>();
  const labelOf = (id: number) => {
    let label = labels.get(id);
    if (!label) {
      const l = sourceLabel(bundle, bundleDir, (nodes.get(id) as CpuProfile['nodes'][number]).callFrame);
      label = { ...l, key: `${l.name} ${l.where}`.trim() };
      labels.set(id, label);
    }
    return label;
  };
  const samples = profile.samples ?? [];
  const deltas = [...(profile.timeDeltas ?? [])].sort((a, b) => a - b);
  const intervalUs = deltas[Math.floor(deltas.length / 2)] ?? 0;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let js = 0;
  let notJs = 0;
  for (const id of samples) {
    const weight = intervalUs;
    const leaf = labelOf(id);
    if (NOT_JS.has(leaf.name)) {
      notJs += weight;
      continue;
    }
    js += weight;
    self.set(leaf.key, (self.get(leaf.key) ?? 0) + weight);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const l = labelOf(at);
      if (l.name === '(root)' || seen.has(l.key)) continue;
      seen.add(l.key);
      total.set(l.key, (total.get(l.key) ?? 0) + weight);
    }
  }
  const perRequest = (us: number) => us / Math.max(1, requests);
  const info = new Map([...labels.values()].map((l) => [l.key, l]));
  const rows = [...new Set([...self.keys(), ...total.keys()])].map((key) => ({
    label: key,
    ours: info.get(key)?.ours ?? false,
    selfUs: perRequest(self.get(key) ?? 0),
    totalUs: perRequest(total.get(key) ?? 0),
  }));
  return {
    rows,
    jsUsPerRequest: perRequest(js),
    otherUsPerRequest: perRequest(notJs),
    sampleCount: samples.length,
    intervalUs,
  };
}
