// A conversion reported by a visitor's browser (the tag's beacon, the pixel, TUNE's /aff_l):
// the same path as a postback (signed click ID, attribution window, dedup by order ID across
// server and browser conversions, terms, rules, caps, notifications, rollups) and the same
// postback log, minus what only an advertiser's server may do: no key, no status, no sub IDs.
// Never throws: the browser gets its GIF or 204 whatever happened; the log says what.
import { offerConfig, type WaitUntil } from '../click/config';
import { afterCommit } from '../conversions';
import { countBrowserConversionsOfClick } from '../db/browser-conversions';
import { ApiError, badRequest } from '../lib/errors';
import { ipPrefix } from '../lib/ip';
import { errorFields, log } from '../lib/log';
import { deploymentSecrets } from '../lib/redact';
import { nowIso } from '../lib/time';
import { resolveTarget, type Target } from '../postback/attribution';
import { recordPostback } from '../postback/conversion';
import { parsePostbackInput } from '../postback/input';
import { clipId, createdLogStatement, type PostbackLogEntry, writeLogEntry } from '../postback/log';
import type { CanonicalField, MappedParams } from '../postback/profiles';
import { PostbackReads } from '../postback/reads';
import { takeRefusalToken } from '../postback/refusal-throttle';
import { CLICK_COOKIE, readCookie, VIEW_COOKIE, verifyViewToken } from './cookies';

/** Browser conversions one click ID may produce per goal (distinct order IDs): a forger's ceiling. */
export const MAX_BROWSER_CONVERSIONS_PER_CLICK = 3;

export type BrowserReporter = 'browser' | 'pixel';

/** The parameter names a browser entry accepts for each canonical field, in order. */
export type FieldNames = Partial<Record<CanonicalField, string[]>>;

// What the tag and /px send; `goal` is the contract's name for a postback's `event`.
export const BROWSER_FIELDS: FieldNames = {
  click_id: ['click_id'],
  offer_id: ['offer_id'],
  event: ['goal', 'event'],
  order_id: ['order_id'],
  amount: ['amount'],
  currency: ['currency'],
  voucher: ['voucher', 'coupon', 'coupon_code'],
};

// TUNE's conversion pixel: /aff_l?offer_id=&adv_sub=&amount=&transaction_id= (goal_id optional).
export const TUNE_PIXEL_FIELDS: FieldNames = {
  click_id: ['transaction_id', 'click_id'],
  offer_id: ['offer_id'],
  event: ['goal_id', 'goal'],
  order_id: ['adv_sub', 'order_id'],
  amount: ['amount'],
  currency: ['currency'],
  voucher: ['voucher', 'coupon_code'],
};

/** The canonical parameters of a browser request; a value sent twice differently is a 400. */
function mapBrowserParams(values: Map<string, string[]>, fields: FieldNames): MappedParams {
  const mapped: MappedParams = { params: {}, names: {} };
  for (const [field, names] of Object.entries(fields) as [CanonicalField, string[]][]) {
    for (const name of names) {
      for (const value of values.get(name) ?? []) {
        const seen = mapped.params[field];
        if (seen !== undefined && seen !== value) {
          throw badRequest(`${name} was sent with two different values`, { [name]: 'has conflicting values' });
        }
        mapped.params[field] = value;
        mapped.names[field] ??= name;
      }
    }
  }
  return mapped;
}

export interface BrowserConversionRequest {
  request: Request;
  reporter: BrowserReporter;
  /** Every parameter of the request (query and body), non-empty values only. */
  values: Map<string, string[]>;
  fields: FieldNames;
  /** The status the request is answered with (204 beacon, 200 pixel), for the log. */
  answerStatus: number;
  /** Why the request was refused before its parameters could be read (a body too large). */
  refusal?: ApiError;
}

/** Records what the browser reported (or logs why not); never throws. */
export async function recordBrowserConversion(env: Env, ctx: WaitUntil, req: BrowserConversionRequest): Promise<void> {
  const { request } = req;
  const entry: PostbackLogEntry = {
    // Redacted by value like a postback's: a browser may send anything, a pasted key included.
    secrets: deploymentSecrets(env),
    received_at: nowIso(),
    method: request.method,
    profile: req.reporter,
    ip_prefix: ipPrefix(request.headers.get('cf-connecting-ip')),
    advertiser_id: null,
    offer_id: null,
    click_id: null,
    order_id: null,
    conversion_id: null,
    params: Object.fromEntries([...req.values].map(([k, v]) => [k, v.length === 1 ? (v[0] as string) : v])),
  };
  try {
    if (req.refusal) throw req.refusal;
    const mapped = mapBrowserParams(req.values, req.fields);
    const cookies = request.headers.get('cookie');
    // The tag and the pixel may have no click ID of their own: the tracking domain's cookie then.
    if (mapped.params.click_id === undefined) {
      const cookie = readCookie(cookies, CLICK_COOKIE);
      if (cookie !== null) {
        mapped.params.click_id = cookie;
        mapped.names.click_id = `cookie ${CLICK_COOKIE}`;
        entry.params[`cookie:${CLICK_COOKIE}`] = cookie;
      }
    }
    entry.click_id = clipId(mapped.params.click_id);
    entry.order_id = clipId(mapped.params.order_id);
    const input = parsePostbackInput(mapped);
    const reads = new BrowserReads(env, ctx, mapped, request);
    const target =
      input.click_id !== undefined
        ? await reads.clickTarget(input, mapped, entry)
        : await reads.viewTarget(input, readCookie(cookies, VIEW_COOKIE), entry);
    if (target.kind === 'click') await checkPerClickLimit(env, reads.postback, target, input.event);
    const result = await recordPostback(
      reads.postback,
      target,
      input,
      mapped.names,
      req.reporter,
      (row) => createdLogStatement(env.DB, entry, row, req.answerStatus),
      { attribution: target.kind === 'click' ? 'click' : 'view_through', hold: target.offer.hold_browser === 1 },
    );
    entry.conversion_id = result.conversion.id;
    afterCommit(env, ctx, result.committed);
    // Anyone holding a click ID can replay a browser conversion: replays are logged under the
    // same per-network throttle as refusals, so they cannot grow the log without bound.
    const replay = result.outcome === 'duplicate' && entry.ip_prefix !== null;
    if (!result.logged && (!replay || takeRefusalToken(entry.ip_prefix as string).log)) {
      await writeLogEntry(env.DB, ctx, entry, result.outcome, req.answerStatus);
    }
  } catch (error) {
    const known = error instanceof ApiError;
    if (!known) log('error', 'browser.conversion_failed', { reporter: req.reporter, ...errorFields(error) });
    await writeLogEntry(env.DB, ctx, entry, 'refused', req.answerStatus, {
      code: known ? error.code : 'internal_error',
      message: known ? error.message : 'Internal error',
    }).catch(() => undefined);
  }
}

const ignored = (message: string) => new ApiError(403, 'browser_tracking_disabled', message);

/** The reads of one browser conversion: the edge config first, D1 only for a real candidate. */
class BrowserReads {
  postback!: PostbackReads;

  constructor(
    private readonly env: Env,
    private readonly ctx: WaitUntil,
    private readonly mapped: MappedParams,
    private readonly request: Request,
  ) {}

  /** Refuses, from memory and before any D1 read, an offer that takes no browser conversions. */
  private async checkTracking(offerId: number): Promise<void> {
    const config = await offerConfig(this.env, this.ctx, offerId);
    if (!config?.browserTracking) {
      throw ignored(`Offer ${offerId} does not accept browser conversions (browser_tracking is off)`);
    }
  }

  async clickTarget(
    input: ReturnType<typeof parsePostbackInput>,
    mapped: MappedParams,
    entry: PostbackLogEntry,
  ): Promise<Target> {
    const ip = this.request.headers.get('cf-connecting-ip');
    this.postback = await PostbackReads.fromMemory(this.env, {});
    const parts = await this.postback.verifiedClick(input.click_id as string);
    if (!parts) {
      throw new ApiError(404, 'click_not_found', 'Unknown click ID: it was not issued by this tracker or was altered');
    }
    entry.offer_id = parts.offerId;
    await this.checkTracking(parts.offerId);
    this.postback = await PostbackReads.prefetch(this.env, this.mapped.params, ip, this.postback);
    const advertiser = await this.postback.advertiserOfOffer(parts.offerId);
    if (!advertiser) throw new ApiError(404, 'offer_not_found', 'Unknown offer');
    entry.advertiser_id = advertiser.id;
    const target = await resolveTarget(this.postback, advertiser, input, mapped.names, Date.now());
    if (target.offer.browser_tracking !== 1) throw ignored('browser_tracking is off for this offer');
    return target;
  }

  /** A click-less conversion credited to a signed view of this offer within its window. */
  async viewTarget(
    input: ReturnType<typeof parsePostbackInput>,
    token: string | null,
    entry: PostbackLogEntry,
  ): Promise<Target> {
    const view = verifyViewToken(this.env, token);
    entry.offer_id = input.offer_id ?? view?.offerId ?? null;
    if (!view) {
      throw badRequest('click_id is required (no click ID, no ch_cid cookie and no view of this offer)', {
        click_id: 'is required',
      });
    }
    if (input.offer_id !== undefined && input.offer_id !== view.offerId) {
      throw badRequest('No click ID, and the view cookie is for another offer', {
        offer_id: 'does not match the view',
      });
    }
    await this.checkTracking(view.offerId);
    const params = { ...this.mapped.params, offer_id: String(view.offerId), publisher_id: String(view.publisherId) };
    this.postback = await PostbackReads.prefetch(this.env, params, null);
    const [offer, publisher] = await Promise.all([
      this.postback.offer(view.offerId),
      this.postback.publisher(view.publisherId),
    ]);
    if (offer?.browser_tracking !== 1) throw ignored('browser_tracking is off for this offer');
    entry.advertiser_id = offer.advertiser_id;
    const hours = offer.view_through_hours ?? 0;
    const age = Date.now() - view.viewedAt;
    if (hours <= 0 || age > hours * 3_600_000 || age < -300_000) {
      throw new ApiError(422, 'outside_view_through_window', `The view is outside the offer's ${hours}-hour window`);
    }
    if (!publisher) throw new ApiError(404, 'publisher_not_found', 'Unknown publisher');
    return { kind: 'affiliate', offer, publisherId: view.publisherId };
  }
}

/** At most MAX_BROWSER_CONVERSIONS_PER_CLICK browser conversions of one click for one goal. */
async function checkPerClickLimit(
  env: Env,
  reads: PostbackReads,
  target: Extract<Target, { kind: 'click' }>,
  event: string | undefined,
): Promise<void> {
  const goals = await reads.goals(target.offer.id);
  const goal =
    event === undefined
      ? (goals.find((g) => g.goal.is_default === 1) ?? goals[0])
      : goals.find((g) => g.goal.key === event || String(g.goal.id) === event);
  if (!goal) return; // recordPostback names the unknown goal
  const count = await countBrowserConversionsOfClick(env.DB, target.clickId, goal.goal.id);
  if (count >= MAX_BROWSER_CONVERSIONS_PER_CLICK) {
    throw new ApiError(
      429,
      'browser_conversion_limit',
      `This click already has ${count} browser conversions for goal ${goal.goal.key}`,
    );
  }
}
