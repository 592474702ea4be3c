// GET /c/:offerId/:publisherId — the redirect. Reads config from the isolate cache, mints a
// signed click ID, answers 302, and hands the click record off after the response.

import { Hono } from 'hono';
import { clickCookie } from '../browser/cookies';
import { shardCount, shardOf } from '../clicks/partition-key';
import { REFUSAL_MESSAGES, type Refusal, refusalFor } from '../terms/access';
import { chooseSmartLinkOffer } from '../terms/smart-link-choice';
import { deviceClass } from './agent';
import { clickIdKeys, mintClickId } from './click-id';
import { type OfferConfig, offerConfig, publisherConfig, type WaitUntil } from './config';
import { asciiUrl, buildLandingUrl, checkDeepLink } from './landing';
import { recordClick, visitorDigest, visitorHash } from './record';
import { searchSource } from './referrer';
import { type ClickLinkIds, isLinkParamError, parseClickLinkIds } from './sub-ids';

type ClickEnv = { Bindings: Env };

const ID = /^[1-9]\d{0,9}$/;
const MAX_ID = 0xffffffff;

const NO_STORE = { 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' };

function parseId(text: string): number | null {
  if (!ID.test(text)) return null;
  const id = Number(text);
  return id <= MAX_ID ? id : null;
}

const JSON_TYPE = 'application/json; charset=UTF-8';

/** A short error for a person's browser (HTML) or a program (JSON), never cached. */
function clickError(request: Request, status: 400 | 404, code: string, message: string, field?: string): Response {
  if ((request.headers.get('accept') ?? '').includes('text/html')) {
    const html = `<!doctype html><meta charset="utf-8"><title>Link unavailable</title><h1>${status === 404 ? 'This link is not available' : 'This link is not valid'}</h1><p>${message.replace(/[<>&"]/g, '')}</p>`;
    return new Response(html, { status, headers: { 'Content-Type': 'text/html; charset=UTF-8', ...NO_STORE } });
  }
  const error = { code, message, ...(field ? { fields: { [field]: message } } : {}) };
  return new Response(JSON.stringify({ error }), { status, headers: { 'Content-Type': JSON_TYPE, ...NO_STORE } });
}

/** Query parameters of a URL, parsed once; null for a link without a query (most links). */
function queryParams(url: string): URLSearchParams | null {
  const q = url.indexOf('?');
  if (q < 0 || q === url.length - 1) return null;
  return new URLSearchParams(url.slice(q + 1));
}

/** What a link without a query carries: no sub IDs, no creative, no deep link. */
const NO_LINK_IDS: ClickLinkIds = Object.freeze({
  subs: Object.freeze([null, null, null, null, null, null]) as (string | null)[],
  creative_id: null,
  creative_group_id: null,
});

const CLICK_PATH = /^\/c\/(\d{1,12})\/(\d{1,12})$/;

/**
 * The offer and publisher segments of a GET or HEAD click link, or null for any other request.
 * The Worker's fetch handler sends matching requests straight to handleClick, past the router:
 * the redirect is the hottest path there is. Anything unusual (other methods, encoded or extra
 * segments) goes through the Hono app, whose route for the same path answers the same way.
 */
export function matchClickPath(request: Request): [offer: string, publisher: string] | null {
  if (request.method !== 'GET' && request.method !== 'HEAD') return null;
  const url = request.url;
  const pathStart = url.indexOf('/', url.indexOf('//') + 2);
  if (pathStart < 0 || url.charCodeAt(pathStart + 1) !== 99 /* c */ || url.charCodeAt(pathStart + 2) !== 47) {
    return null;
  }
  let pathEnd = url.indexOf('?', pathStart);
  const hash = url.indexOf('#', pathStart);
  if (pathEnd < 0 || (hash >= 0 && hash < pathEnd)) pathEnd = hash;
  const match = CLICK_PATH.exec(pathEnd < 0 ? url.slice(pathStart) : url.slice(pathStart, pathEnd));
  return match ? [match[1] as string, match[2] as string] : null;
}

export const clickRoutes = new Hono<ClickEnv>();

clickRoutes.get('/c/:offerId/:publisherId', (c) =>
  handleClick(c.req.raw, c.env, c.executionCtx, c.req.param('offerId'), c.req.param('publisherId')),
);

// A smart link picks an eligible offer (src/terms/smart-link-choice.ts), then answers as /c/.
clickRoutes.get('/s/:smartLinkId/:publisherId', async (c) => {
  const publisherText = c.req.param('publisherId');
  const choice = await chooseSmartLinkOffer(
    c.req.raw,
    c.env,
    c.executionCtx,
    c.req.param('smartLinkId'),
    publisherText,
  );
  if (!choice.ok) return clickError(c.req.raw, 404, choice.code, choice.message, choice.field);
  return handleClick(c.req.raw, c.env, c.executionCtx, String(choice.offerId), publisherText);
});

/** Fallback offers followed for one click at most (they may point at each other). */
const MAX_FALLBACK_HOPS = 3;

/** A click the offer's terms refuse: its fallback offer (a real click there), fallback URL, or 404. */
function refusedClick(
  request: Request,
  env: Env,
  ctx: WaitUntil,
  offer: OfferConfig,
  refusal: Refusal,
  publisherText: string,
  hops: number,
): Promise<Response> | Response {
  const fallbackOffer = offer.terms?.fallbackOfferId;
  if (fallbackOffer && hops < MAX_FALLBACK_HOPS) {
    return handleClick(request, env, ctx, String(fallbackOffer), publisherText, hops + 1);
  }
  if (offer.fallbackUrl) {
    return new Response(null, { status: 302, headers: { Location: asciiUrl(offer.fallbackUrl), ...NO_STORE } });
  }
  return clickError(request, 404, refusal, REFUSAL_MESSAGES[refusal], 'offer_id');
}

/** The redirect for the link /c/{offerText}/{publisherText}. */
export async function handleClick(
  request: Request,
  env: Env,
  ctx: WaitUntil,
  offerText: string,
  publisherText: string,
  hops = 0,
): Promise<Response> {
  const offerId = parseId(offerText);
  const publisherId = parseId(publisherText);
  if (offerId === null) return clickError(request, 404, 'offer_not_found', 'Unknown offer', 'offer_id');
  if (publisherId === null) return clickError(request, 404, 'publisher_not_found', 'Unknown publisher', 'publisher_id');

  const [offer, publisher] = await Promise.all([
    offerConfig(env, ctx, offerId),
    publisherConfig(env, ctx, publisherId),
  ]);
  if (!offer?.active || !publisher?.active) {
    if (offer?.fallbackUrl) {
      return new Response(null, { status: 302, headers: { Location: asciiUrl(offer.fallbackUrl), ...NO_STORE } });
    }
    return offer?.active
      ? clickError(request, 404, 'publisher_not_found', 'Unknown or paused publisher', 'publisher_id')
      : clickError(request, 404, 'offer_not_found', 'Unknown or paused offer', 'offer_id');
  }
  // Program terms (private offer, caps reached) from the cached config: no storage read.
  const refusal = refusalFor(offer.terms, publisherId, Date.now());
  if (refusal) return refusedClick(request, env, ctx, offer, refusal, publisherText, hops);

  const query = queryParams(request.url);
  // sub1..sub6 (or their TUNE, Awin and impact aliases) and the creative ids (src/click/sub-ids.ts);
  // a link without a query skips the parsing and its dozen lookups.
  const linkIds = query ? parseClickLinkIds(query) : NO_LINK_IDS;
  if (isLinkParamError(linkIds)) return clickError(request, 400, 'invalid_request', linkIds.message, linkIds.field);
  const { subs } = linkIds;
  const deepLinkParam = query?.get('url') ?? null;
  let deepLink: string | undefined;
  if (deepLinkParam !== null && deepLinkParam !== '') {
    const checked = checkDeepLink(deepLinkParam, offer.deepLinkHosts);
    if (!checked.ok) return clickError(request, 400, 'invalid_deep_link', `url ${checked.reason}`, 'url');
    deepLink = checked.url;
  }

  const clickedAt = Date.now();
  const headers = request.headers;
  const userAgent = headers.get('user-agent')?.slice(0, 512) ?? null;
  const ip = headers.get('cf-connecting-ip');
  // With partitions on, the ID carries the visitor's shard, so the visitor hash is needed now.
  const shards = shardCount(env);
  const digest = shards > 0 ? visitorDigest(env, ip, userAgent) : undefined;
  const shard = digest ? shardOf(digest[0] as number, shards) : undefined;
  const clickId = await mintClickId(await clickIdKeys(env), { clickedAt, offerId, publisherId, shard });
  const location = buildLandingUrl(
    offer.landingUrl,
    offer.clickParam,
    {
      click_id: clickId,
      offer_id: String(offerId),
      publisher_id: String(publisherId),
      sub1: subs[0] ?? '',
      sub2: subs[1] ?? '',
      sub3: subs[2] ?? '',
      sub4: subs[3] ?? '',
      sub5: subs[4] ?? '',
      deep_link: deepLink ?? '',
    },
    deepLink,
  );

  // HEAD (link checkers, prefetchers) gets the same answer but is not a click.
  if (request.method !== 'HEAD') {
    const referrer = headers.get('referer')?.slice(0, 1024) ?? null;
    const cf = request.cf as IncomingRequestCfProperties | undefined;
    const source = searchSource(referrer);
    const device = deviceClass(userAgent);
    recordClick(env, ctx, {
      click_id: clickId,
      clicked_at: new Date(clickedAt).toISOString(),
      offer_id: offerId,
      publisher_id: publisherId,
      sub1: subs[0] ?? null,
      sub2: subs[1] ?? null,
      sub3: subs[2] ?? null,
      sub4: subs[3] ?? null,
      sub5: subs[4] ?? null,
      sub6: subs[5] ?? null,
      creative_id: linkIds.creative_id,
      creative_group_id: linkIds.creative_group_id,
      deep_link: deepLink ?? null,
      referrer,
      search_engine: source.engine,
      search_phrase: source.phrase,
      country: typeof cf?.country === 'string' ? cf.country : null,
      region: typeof cf?.region === 'string' ? cf.region : null,
      city: typeof cf?.city === 'string' ? cf.city : null,
      colo: typeof cf?.colo === 'string' ? cf.colo : null,
      asn: typeof cf?.asn === 'number' ? cf.asn : null,
      user_agent: userAgent,
      device,
      ip,
      ...(digest ? { visitor_hash: visitorHash(digest) } : {}),
      // deviceClass already ran the bot patterns; no user agent at all counts as a bot too.
      is_bot: device === 'bot' || device === 'unknown' ? 1 : 0,
    });
  }
  const answer = new Response(null, { status: 302, headers: { Location: location, ...NO_STORE } });
  // The pixel's fallback when it is given no click ID (src/browser/cookies.ts): from the config in memory.
  if (offer.browserTracking) answer.headers.set('Set-Cookie', clickCookie(clickId, offer.attributionWindowDays));
  return answer;
}
