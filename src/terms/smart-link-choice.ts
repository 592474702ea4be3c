// GET /s/:smartLinkId/:publisherId: which offer a smart link sends this visitor to. Everything it
// reads comes from the edge config caches (no storage read when they are warm); the redirect
// itself is then the /c/ redirect of the chosen offer (src/click/route.ts).
import { deviceClass } from '../click/agent';
import { offerConfig, publisherConfig, smartLinkConfig, type WaitUntil } from '../click/config';
import { refusalFor } from './access';
import { matchesVisitor, pickByWeight } from './smart-links';

export type SmartLinkChoice =
  | { ok: true; offerId: number }
  | { ok: false; code: string; message: string; field: string };

const ID = /^[1-9]\d{0,9}$/;
const parseId = (text: string): number | null => (ID.test(text) && Number(text) <= 0xffffffff ? Number(text) : null);

export async function chooseSmartLinkOffer(
  request: Request,
  env: Env,
  ctx: WaitUntil,
  linkText: string,
  publisherText: string,
  random: () => number = Math.random,
): Promise<SmartLinkChoice> {
  const linkId = parseId(linkText);
  const publisherId = parseId(publisherText);
  const [link, publisher] = await Promise.all([
    linkId === null ? null : smartLinkConfig(env, ctx, linkId),
    publisherId === null ? null : publisherConfig(env, ctx, publisherId),
  ]);
  if (!link) return { ok: false, code: 'smart_link_not_found', message: 'Unknown smart link', field: 'smart_link_id' };
  if (publisherId === null || !publisher?.active) {
    return { ok: false, code: 'publisher_not_found', message: 'Unknown or paused publisher', field: 'publisher_id' };
  }
  const cf = request.cf as IncomingRequestCfProperties | undefined;
  const country = typeof cf?.country === 'string' ? cf.country.toUpperCase() : null;
  const device = deviceClass(request.headers.get('user-agent'));
  const now = Date.now();
  const candidates = link.rules.filter((rule) => matchesVisitor(rule, country, device));
  const offers = await Promise.all(candidates.map((rule) => offerConfig(env, ctx, rule.offerId)));
  const eligible = candidates.filter((_, i) => {
    const offer = offers[i];
    return offer?.active === true && refusalFor(offer.terms, publisherId, now) === null;
  });
  const chosen = pickByWeight(eligible, random());
  if (!chosen) {
    return {
      ok: false,
      code: 'no_eligible_offer',
      message: 'No offer of this smart link is open to this publisher and visitor',
      field: 'smart_link_id',
    };
  }
  return { ok: true, offerId: chosen.offerId };
}
