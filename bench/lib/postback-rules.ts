// Section "postback-rules": section 2's accepted postbacks again, on an offer with the conversion
// rules of issues 14 and 15 in force — the publisher's own payout, a click-to-conversion time
// rule, a conversion cap far from its limit — and every sale in USD on a EUR offer, so each one
// is converted at the rate in force. Issue 15 asks for no worse than section 2's ratio to the bare
// one-insert Worker (0.31 before the rules existed), still two D1 round trips per conversion.
import type { BenchContext } from './context.ts';
import type { AdminClient, Fixtures } from './fixtures.ts';
import { type PostbackResult, postbackSection } from './postback.ts';
import { errorOf, type Outcome, okOf, skipped } from './report-format.ts';
import { fmt } from './stats.ts';

async function must(admin: AdminClient, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await admin.call(method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path} -> ${res.status}: ${res.text.slice(0, 300)}`);
  return res.json;
}

/** The fixture's advertiser and publisher on a new offer with every rule in force. */
async function fixturesWithRules(fx: Fixtures): Promise<Fixtures> {
  const offer = await fx.createOffer('postback rules bench: own payout, time rule, cap, USD sales');
  await must(fx.admin, 'PUT', `/api/v1/offers/${offer.id}/goals/lead/payouts/${fx.publisher.id}`, {
    payout: '2.50',
  });
  await must(fx.admin, 'PATCH', `/api/v1/offers/${offer.id}`, { min_seconds_to_convert: 1, time_rule: 'flag' });
  await must(fx.admin, 'POST', `/api/v1/offers/${offer.id}/caps`, {
    metric: 'conversions',
    period: 'month',
    limit: 1_000_000,
  });
  await must(fx.admin, 'PUT', '/api/v1/exchange-rates/USD/EUR', {
    rate: '0.9217',
    valid_from: '2026-01-01T00:00:00Z',
  });
  return { ...fx, offer, postbackQuery: '&amount=10.00&currency=USD' };
}

export async function postbackRulesSection(ctx: BenchContext): Promise<PostbackResult> {
  return postbackSection({ ...ctx, fx: await fixturesWithRules(ctx.fx) }, 'rules');
}

export function postbackRulesReport(
  outcome: Outcome<PostbackResult> | undefined,
  plain: PostbackResult | undefined,
): string[] {
  if (outcome === undefined) return [];
  const heading = '## Postbacks with conversion rules in force';
  const error = errorOf(outcome);
  const result = okOf(outcome);
  if (error || !result) return [heading, '', skipped('Postback with rules', error ?? 'no result'), ''];
  if (!result.available) return [heading, '', `**Not available:** ${result.reason}.`, ''];
  const plainRatio = plain?.available ? plain.ratioAccepted.toFixed(2) : 'not measured in this run';
  return [
    heading,
    '',
    'Accepted postbacks on an offer with the publisher’s own payout, a time rule (flag under 1 s), a ' +
      'conversion cap far from its limit, and every sale in USD on a EUR offer (converted at the rate in ' +
      'force), against the bare one-insert Worker, alternating runs as in section 2.',
    '',
    `Ratio to bare, accepted: **${result.ratioAccepted.toFixed(2)}** (section 2 without rules in this run: ` +
      `${plainRatio}; 0.31 before the rules existed). Answered 200: ${fmt(result.accepted200)}; ` +
      `conversions stored: ${fmt(result.stored)}.`,
    '',
  ];
}
