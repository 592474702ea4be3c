// GET /c/:offerId/:publisherId — the redirect. Reads config from the isolate cache, mints a
// signed click ID, answers 302, and hands the click record off after the response.

import type { Context } from 'hono';
import { Hono } from 'hono';
import { deviceClass, isBot } from './agent';
import { clickIdKeys, mintClickId } from './click-id';
import { offerConfig, publisherConfig } from './config';
import { asciiUrl, buildLandingUrl, checkDeepLink } from './landing';
import { recordClick } from './record';
import { searchSource } from './referrer';

type ClickEnv = { Bindings: Env };

const ID = /^[1-9]\d{0,9}$/;
const MAX_ID = 0xffffffff;
const SUB_KEYS = ['sub1', 'sub2', 'sub3', 'sub4', 'sub5'] as const;
const MAX_SUB_LENGTH = 255;
// biome-ignore lint/suspicious/noControlCharactersInRegex: sub IDs with control characters are refused
const CONTROL = /[\u0000-\u001f\u007f]/;

const NO_STORE = { 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' };

function parseId(text: string): number | null {
  if (!ID.test(text)) return null;
  const id = Number(text);
  return id <= MAX_ID ? id : null;
}

/** A short error for a person's browser (HTML) or a program (JSON), never cached. */
function clickError(c: Context, status: 400 | 404, code: string, message: string, field?: string) {
  if ((c.req.header('accept') ?? '').includes('text/html')) {
    const html = `<!doctype html><meta charset="utf-8"><title>Link unavailable</title><h1>${status === 404 ? 'This link is not available' : 'This link is not valid'}</h1><p>${message.replace(/[<>&"]/g, '')}</p>`;
    return c.html(html, status, NO_STORE);
  }
  const error = { code, message, ...(field ? { fields: { [field]: message } } : {}) };
  return c.json({ error }, status, NO_STORE);
}

/** First value of each query parameter, parsed once. */
function queryParams(c: Context): URLSearchParams {
  const url = c.req.url;
  const q = url.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
}

export const clickRoutes = new Hono<ClickEnv>();

clickRoutes.get('/c/:offerId/:publisherId', async (c) => {
  const offerId = parseId(c.req.param('offerId'));
  const publisherId = parseId(c.req.param('publisherId'));
  if (offerId === null) return clickError(c, 404, 'offer_not_found', 'Unknown offer', 'offer_id');
  if (publisherId === null) return clickError(c, 404, 'publisher_not_found', 'Unknown publisher', 'publisher_id');

  const [offer, publisher] = await Promise.all([
    offerConfig(c.env, c.executionCtx, offerId),
    publisherConfig(c.env, c.executionCtx, publisherId),
  ]);
  if (!offer?.active || !publisher?.active) {
    if (offer?.fallbackUrl) {
      return new Response(null, { status: 302, headers: { Location: asciiUrl(offer.fallbackUrl), ...NO_STORE } });
    }
    return offer?.active
      ? clickError(c, 404, 'publisher_not_found', 'Unknown or paused publisher', 'publisher_id')
      : clickError(c, 404, 'offer_not_found', 'Unknown or paused offer', 'offer_id');
  }

  const query = queryParams(c);
  const subs: (string | null)[] = [];
  for (const key of SUB_KEYS) {
    const value = query.get(key);
    if (value !== null && (value.length > MAX_SUB_LENGTH || CONTROL.test(value))) {
      return clickError(
        c,
        400,
        'invalid_request',
        `${key} must be at most ${MAX_SUB_LENGTH} characters with no control characters`,
        key,
      );
    }
    subs.push(value === '' ? null : value);
  }
  const deepLinkParam = query.get('url');
  let deepLink: string | undefined;
  if (deepLinkParam !== null && deepLinkParam !== '') {
    const checked = checkDeepLink(deepLinkParam, offer.deepLinkHosts);
    if (!checked.ok) return clickError(c, 400, 'invalid_deep_link', `url ${checked.reason}`, 'url');
    deepLink = checked.url;
  }

  const clickedAt = Date.now();
  const clickId = await mintClickId(await clickIdKeys(c.env), { clickedAt, offerId, publisherId });
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
  if (c.req.raw.method !== 'HEAD') {
    const userAgent = c.req.header('user-agent')?.slice(0, 512) ?? null;
    const referrer = c.req.header('referer')?.slice(0, 1024) ?? null;
    const cf = c.req.raw.cf as IncomingRequestCfProperties | undefined;
    const source = searchSource(referrer);
    const bot = isBot(userAgent);
    recordClick(c.env, c.executionCtx, {
      click_id: clickId,
      clicked_at: new Date(clickedAt).toISOString(),
      offer_id: offerId,
      publisher_id: publisherId,
      sub1: subs[0] ?? null,
      sub2: subs[1] ?? null,
      sub3: subs[2] ?? null,
      sub4: subs[3] ?? null,
      sub5: subs[4] ?? null,
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
      device: deviceClass(userAgent),
      ip: c.req.header('cf-connecting-ip') ?? null,
      is_bot: bot ? 1 : 0,
    });
  }
  return new Response(null, { status: 302, headers: { Location: location, ...NO_STORE } });
});
