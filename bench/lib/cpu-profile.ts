// Section 1c/2c: where the time goes — a V8 sampling CPU profile of the Clickhop isolate during
// redirects and during accepted postbacks, on the second workerd started with the V8 inspector.
import type { BenchContext } from './context.ts';
import { CLICK_HEADERS, clickPath, postbackPath } from './fixtures.ts';
import { connectInspector, type Inspector } from './inspector.ts';
import { clickLoad, type LoadJob, runLoad } from './load.ts';
import { mintClickIds, postbackAvailable, writeIds } from './postback.ts';
import { type CpuProfile, type ProfileSummary, summariseProfile } from './profile.ts';
import { cpuMicros } from './runtime.ts';
import { sleep } from './stats.ts';

export interface ProfiledLoad extends ProfileSummary {
  rps: number;
  requests: number;
  status: Record<string, number>;
  cpuUsPerRequest: number;
}

export interface ProfileResult {
  redirect: ProfiledLoad;
  postback?: ProfiledLoad;
}

/** Profiles the isolate while `job` runs; the profile also covers 1.5 s of trailing queue work. */
async function profileWhile(ctx: BenchContext, inspector: Inspector, job: LoadJob): Promise<ProfiledLoad> {
  const { rt, bundlePath } = ctx;
  await inspector.send('Profiler.enable');
  await inspector.send('Profiler.setSamplingInterval', { interval: 100 });
  await inspector.send('Profiler.start');
  const cpu0 = cpuMicros(rt.pid);
  const load = await runLoad(job, ctx.loadContext);
  await sleep(1_500);
  const cpuUs = cpuMicros(rt.pid) - cpu0;
  const { profile } = await inspector.send<{ profile: CpuProfile }>('Profiler.stop');
  const summary = summariseProfile(profile, { bundlePath, requests: load.completed });
  return {
    rps: load.rps,
    requests: load.completed,
    status: load.status,
    cpuUsPerRequest: cpuUs / load.completed,
    ...summary,
  };
}

export async function profileSection(ctx: BenchContext): Promise<ProfileResult> {
  const { opts, rt, fx } = ctx;
  const inspector = await connectInspector(rt.mf, 'clickhop');
  try {
    const path = clickPath(fx);
    const base = { origin: rt.urls.clickhop as string, headers: CLICK_HEADERS, connections: opts.connections };
    await clickLoad(ctx, { seconds: 1 });
    // A fixed, moderate rate leaves CPU for V8's sampling thread on a small machine (at full load
    // it samples irregularly and the profile is less faithful).
    const out: ProfileResult = {
      redirect: await profileWhile(ctx, inspector, {
        ...base,
        path,
        seconds: opts.profileSeconds,
        rate: opts.profileRate,
      }),
    };
    if ((await postbackAvailable(base.origin)).ok) {
      const ids = await mintClickIds(ctx, 3_000);
      const idsFile = await writeIds(ctx, ids, 'ids-profile');
      out.postback = await profileWhile(ctx, inspector, {
        ...base,
        path: postbackPath(fx, '{id}', 'bench-profile-{n}'),
        idsFile,
        seconds: opts.profileSeconds,
        rate: Math.max(5, Math.round(opts.profileRate / 20)),
      });
    }
    return out;
  } finally {
    inspector.close();
  }
}
