// Advertiser postbacks (inbound S2S): /postback and its compatibility profiles. Each request
// is read (query + body), mapped onto canonical parameters, authenticated, attributed, stored,
// answered in JSON, and recorded in the postback log whatever its outcome.
import { type Context, Hono } from 'hono';
import { visibleTo } from '../auth/money-view';
import { afterCommit } from '../conversions';
import type { ConversionWithGoal } from '../db/conversions';
import { ApiError } from '../lib/errors';
import { formatAmount } from '../lib/money';
import { resolveTarget } from './attribution';
import { authenticateAdvertiser, checkIpAllowed } from './auth';
import { type PostbackResult, recordPostback } from './conversion';
import { parsePostbackInput, withCommissionGroup } from './input';
import { clipId, createdLogStatement, logRefusal, startLogEntry, writeLogEntry } from './log';
import { queryParams, readParams } from './params';
import {
  canonicalProfile,
  hasOffersProfile,
  loggableParams,
  mapParams,
  type Profile,
  tradeTrackerGoal,
  tradeTrackerProfile,
} from './profiles';
import { PostbackReads } from './reads';
import { StaleConfig } from './stale-config';

type PostbackEnv = { Bindings: Env };

export const postbackRoutes = new Hono<PostbackEnv>();

const PROFILES: [string, Profile][] = [
  ['/postback', canonicalProfile],
  ['/postback/hasoffers', hasOffersProfile],
  ['/postback/tradetracker/lead', tradeTrackerProfile('lead')],
  ['/postback/tradetracker/sale', tradeTrackerProfile('sale')],
  // Drop-in paths: TUNE's server postback URLs, so only the host name changes.
  ['/aff_lsr', hasOffersProfile],
  ['/aff_goal', hasOffersProfile],
];

for (const [path, profile] of PROFILES) {
  postbackRoutes.on(['GET', 'POST'], path, (c) => handlePostback(c, profile));
}

// TradeTracker calls back on the root (`/?s2s=1&...`); anything else on `/` goes on to the app.
postbackRoutes.on(['GET', 'POST'], '/', (c, next) => {
  const query = new URL(c.req.url).searchParams;
  if (query.get('s2s') === null) return next();
  const host = c.req.header('host') ?? new URL(c.req.url).hostname;
  return handlePostback(c, tradeTrackerProfile(tradeTrackerGoal(host, query.get('tam') !== null)));
});

async function handlePostback(c: Context<PostbackEnv>, profile: Profile): Promise<Response> {
  const entry = startLogEntry(c, profile.name);
  const values = queryParams(c.req.url);
  const hasAuthorization = c.req.header('authorization') !== undefined;
  entry.params = loggableParams(profile, { values, hasAuthorization });
  try {
    // Hono answers HEAD with the GET handler; a HEAD (link checker) must not convert.
    if (c.req.method === 'HEAD') throw new ApiError(405, 'method_not_allowed', 'Use GET or POST');
    const raw = await readParams(c, values);
    entry.params = loggableParams(profile, raw);
    const mapped = mapParams(profile, raw);
    entry.click_id = clipId(mapped.params.click_id);
    entry.order_id = clipId(mapped.params.order_id);

    const ip = c.req.header('cf-connecting-ip') ?? null;
    // What an earlier postback of this isolate read for the same key, offer and publisher, if
    // the config has not changed since (config-cache.ts); otherwise one D1 batch reads what the
    // steps below will ask about. Either way they decide in the usual order.
    const accept = async (reads: PostbackReads) => {
      const advertiser = await authenticateAdvertiser(reads, mapped.params.key, mapped.params.click_id, ip);
      entry.advertiser_id = advertiser.id;
      checkIpAllowed(advertiser, ip);

      const parsed = parsePostbackInput(mapped);
      const seen: { offer_id?: number } = {};
      const target = await resolveTarget(reads, advertiser, parsed, mapped.names, Date.now(), seen).finally(() => {
        entry.offer_id = seen.offer_id ?? null;
      });
      const input =
        profile.name === 'tradetracker'
          ? withCommissionGroup(parsed, raw.values.get('pid')?.[0], await groupCodes(reads, target.offer.id))
          : parsed;
      return recordPostback(reads, target, input, mapped.names, profile.name, (row) =>
        createdLogStatement(c.env.DB, entry, row),
      );
    };
    const remembered = await PostbackReads.fromMemory(c.env, mapped.params);
    const fresh = () => PostbackReads.prefetch(c.env, mapped.params, ip, remembered).then(accept);
    const result =
      remembered.optimisticEpoch !== null
        ? await accept(remembered).catch((error: unknown) => {
            // A refusal or a changed config while still working from memory (nothing was
            // written): decide again from what D1 says now.
            const fromMemory = remembered.optimisticEpoch !== null;
            if (fromMemory && (error instanceof ApiError || error instanceof StaleConfig)) return fresh();
            throw error;
          })
        : await fresh();
    entry.conversion_id = result.conversion.id;
    entry.order_id = result.conversion.order_id ?? entry.order_id;
    afterCommit(c.env, c.executionCtx, result.committed);
    if (!result.logged) await writeLogEntry(c.env.DB, c.executionCtx, entry, result.outcome, 200);
    // The caller is the advertiser's server: it reads what it pays, never the publisher's payout.
    return c.json(visibleTo('advertiser', presentResult(result)));
  } catch (error) {
    const refused = await logRefusal(c.env.DB, c.executionCtx, entry, error);
    if (refused.status === 401) c.header('WWW-Authenticate', 'Bearer');
    return c.json(refused.answerBody(entry.secrets), refused.status);
  }
}

/** The commission group codes the offer's payout rules name (prefetched with its goals). */
async function groupCodes(reads: PostbackReads, offerId: number): Promise<Set<string>> {
  const goals = await reads.goals(offerId);
  return new Set(
    goals.flatMap((g) => g.rules.flatMap((r) => (r.commission_group === null ? [] : [r.commission_group]))),
  );
}

function presentResult(result: PostbackResult) {
  const cv: ConversionWithGoal = result.conversion;
  return {
    status: 'ok',
    conversion_id: cv.id,
    duplicate: result.outcome === 'duplicate',
    outcome: result.outcome,
    event: cv.goal_key,
    conversion_status: cv.status,
    ...(result.previousStatus ? { previous_status: result.previousStatus } : {}),
    click_id: cv.click_id,
    order_id: cv.order_id,
    amount: formatAmount(cv.amount, cv.currency),
    currency: cv.currency,
    revenue: formatAmount(cv.revenue, cv.payout_currency),
    payout: formatAmount(cv.payout, cv.payout_currency),
    payout_currency: cv.payout_currency,
    source: cv.source ?? 'server',
    attribution: cv.attribution ?? (cv.click_id ? 'click' : 'affiliate'),
    ...(cv.attribution_note ? { attribution_note: cv.attribution_note } : {}),
    ...(cv.reason ? { reason: cv.reason } : {}),
    created_at: cv.created_at,
  };
}
