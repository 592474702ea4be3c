// Private offers in the portal, through the Worker: a publisher's Offers page lists the private
// offers it may apply to with its payout and their terms (never revenue) and an Apply button; the
// operator's Applications page lists pending and decided applications with approve / reject
// (CSRF-checked), and each decision shows on the publisher's page and at the tracking link.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { namedApplicationsSql } from '../../src/db/applications';
import { publisherOfferCapsSql, publisherOffersSql } from '../../src/db/portal';
import { adminOk, createFixture, type Fixture, worker } from '../helpers';
import { elementById, type PortalPerson, rowsBy, signedIn, textOf } from '../portal-helpers';

let fixture: Fixture;
let privateOffer: number;
let publisher: PortalPerson;
let operator: PortalPerson;

const applicationOf = (offerId: number, publisherId: number) =>
  env.DB.prepare('SELECT id, status, message FROM offer_applications WHERE offer_id = ? AND publisher_id = ?')
    .bind(offerId, publisherId)
    .first<{ id: number; status: string; message: string | null }>();

/** The row of the offer in one of the publisher's lists (#offers or #apply-offers), as text. */
async function offerRow(list: 'offers' | 'apply-offers', offerId: number): Promise<string | undefined> {
  const page = await publisher.page('/portal');
  expect(page.status).toBe(200);
  return rowsBy(elementById(page.text, list), 'offer-id').get(String(offerId));
}

const clickStatus = async (offerId: number, publisherId: number) =>
  (await worker(`/c/${offerId}/${publisherId}`, { headers: { 'cf-connecting-ip': '203.0.113.9' } })).status;

beforeAll(async () => {
  fixture = await createFixture({ name: 'Open shoes' });
  privateOffer = (
    await adminOk<{ id: number }>('POST', '/offers', {
      advertiser_id: fixture.advertiserId,
      name: 'Private watches',
      landing_url: 'https://watches.example/landing',
      currency: 'EUR',
      visibility: 'private',
      attribution_window_days: 14,
      max_seconds_to_convert: 86_400,
      goals: [
        { key: 'lead', revenue: '7.77', payout: '3.00' },
        { key: 'sale', revenue_percent: 12.5, payout_percent: 6 },
      ],
    })
  ).id;
  await adminOk('POST', `/offers/${privateOffer}/caps`, { metric: 'conversions', period: 'day', limit: 40 });
  await adminOk('POST', `/offers/${privateOffer}/caps`, { metric: 'revenue', period: 'month', limit: '4444.00' });
  publisher = await signedIn('pat@watch-blog.example', {
    role: 'publisher',
    publisher_id: fixture.publisherId,
    advertiser_id: null,
  });
  operator = await signedIn('olga@network.example', { role: 'operator', publisher_id: null, advertiser_id: null });
});

describe("a publisher's Offers page", () => {
  it('lists a private offer to apply to, with its payout and terms, never revenue', async () => {
    const page = await publisher.page('/portal');
    const applyList = elementById(page.text, 'apply-offers');
    const row = rowsBy(applyList, 'offer-id').get(String(privateOffer)) ?? '';
    expect(textOf(row)).toContain('Private watches');
    expect(textOf(row)).toContain('lead: 3.00 EUR');
    expect(textOf(row)).toContain('sale: 6% of the sale');
    expect(textOf(row)).toContain('Attribution window: 14 days');
    expect(textOf(row)).toContain('Click to conversion: at most 1 d (else flagged)');
    expect(textOf(row)).toContain('Cap: 40 conversions per day (all publishers together)');
    expect(textOf(row)).toContain('Not applied');
    expect(row).toMatch(new RegExp(`<form[^>]+method="post" action="/portal/offers/${privateOffer}/apply">`));
    expect(row).toContain(`name="_csrf" value="${publisher.csrf}"`);
    // Not in the promotable list, no tracking link for it; revenue and the revenue cap nowhere.
    expect(rowsBy(elementById(page.text, 'offers'), 'offer-id').has(String(privateOffer))).toBe(false);
    expect(page.text).not.toContain(`/c/${privateOffer}/`);
    expect(page.text).not.toMatch(/7\.77|12\.5|4,444|4444|[Rr]evenue/);
  });

  it('applies with a note; the page shows it pending, without an Apply button', async () => {
    const applied = await publisher.post(`/portal/offers/${privateOffer}/apply`, { message: 'Watch reviews' });
    expect(applied.status).toBe(200);
    expect(textOf(elementById(applied.text, 'apply-offers'))).toContain('Pending');
    expect(applied.text).toMatch(/Applied to offer \d+: application \d+ is pending/);
    expect(await applicationOf(privateOffer, fixture.publisherId)).toMatchObject({
      status: 'pending',
      message: 'Watch reviews',
    });
    const row = (await offerRow('apply-offers', privateOffer)) ?? '';
    expect(row).toContain('data-access="pending"');
    expect(row).not.toContain('/apply"');
    const audit = await env.DB.prepare(
      "SELECT actor_label FROM audit_log WHERE action = 'applyToOffer' ORDER BY id DESC",
    ).first<{ actor_label: string }>();
    expect(audit?.actor_label).toContain('pat@watch-blog.example');
  });

  it('without the CSRF token nothing is applied', async () => {
    const other = await createFixture({ name: 'Private rings', visibility: 'private' });
    const refused = await publisher.post(`/portal/offers/${other.offerId}/apply`, {}, 'forged');
    expect(refused.status).toBe(403);
    expect(await applicationOf(other.offerId, fixture.publisherId)).toBeNull();
  });
});

describe("the operator's Applications page", () => {
  it('lists the pending application with names and note, and approve / reject forms', async () => {
    const page = await operator.page('/portal/applications');
    expect(page.status).toBe(200);
    expect(page.text).toContain('href="/portal/applications" aria-current="page"');
    const { id } = (await applicationOf(privateOffer, fixture.publisherId)) ?? { id: 0 };
    const row = rowsBy(elementById(page.text, 'applications'), 'application-id').get(String(id)) ?? '';
    expect(textOf(row)).toContain('Blog');
    expect(textOf(row)).toContain(`publisher ${fixture.publisherId}`);
    expect(textOf(row)).toContain('Private watches');
    expect(textOf(row)).toContain('Watch reviews');
    expect(textOf(row)).toContain('pending');
    for (const verb of ['approve', 'reject']) {
      expect(row).toContain(`action="/portal/applications/${id}/${verb}"`);
    }
    expect(row).toContain(`name="_csrf" value="${operator.csrf}"`);
  });

  it('approves: the publisher promotes it (tracking link, clicks reach the landing page); revoking undoes it', async () => {
    const { id } = (await applicationOf(privateOffer, fixture.publisherId)) ?? { id: 0 };
    expect(await clickStatus(privateOffer, fixture.publisherId)).toBe(404);
    // A forged form changes nothing.
    expect((await operator.post(`/portal/applications/${id}/approve`, {}, 'forged')).status).toBe(403);
    expect((await applicationOf(privateOffer, fixture.publisherId))?.status).toBe('pending');

    const approved = await operator.post(`/portal/applications/${id}/approve`, { view: 'pending' });
    expect(approved.status).toBe(200);
    expect(approved.text).toContain(
      `Application ${id} approved: publisher ${fixture.publisherId} may promote offer ${privateOffer}.`,
    );
    expect(rowsBy(elementById(approved.text, 'applications'), 'application-id').has(String(id))).toBe(false);
    expect((await applicationOf(privateOffer, fixture.publisherId))?.status).toBe('approved');
    const promoted = (await offerRow('offers', privateOffer)) ?? '';
    expect(textOf(promoted)).toContain('private, approved');
    expect(promoted).toContain(`/c/${privateOffer}/${fixture.publisherId}`);
    expect(await offerRow('apply-offers', privateOffer)).toBeUndefined();
    expect(await clickStatus(privateOffer, fixture.publisherId)).toBe(302);

    const approvedTab = await operator.page('/portal/applications?status=approved');
    const row = rowsBy(elementById(approvedTab.text, 'applications'), 'application-id').get(String(id)) ?? '';
    expect(row).toContain(`action="/portal/applications/${id}/reject"`);
    expect(row).not.toContain('/approve"');
    const revoked = await operator.post(`/portal/applications/${id}/reject`, { view: 'approved' });
    expect(revoked.text).toContain(`Application ${id} rejected`);
    expect((await applicationOf(privateOffer, fixture.publisherId))?.status).toBe('rejected');
    expect(await clickStatus(privateOffer, fixture.publisherId)).toBe(404);
    const rejectedRow = (await offerRow('apply-offers', privateOffer)) ?? '';
    expect(rejectedRow).toContain('data-access="rejected"');
    expect(textOf(rejectedRow)).toContain('Apply again');
    const rejectedTab = await operator.page('/portal/applications?status=rejected');
    expect(rowsBy(elementById(rejectedTab.text, 'applications'), 'application-id').has(String(id))).toBe(true);
  });

  it('names a bad status or application, and is not a publisher page', async () => {
    const bad = await operator.page('/portal/applications?status=maybe');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('status must be pending, approved or rejected');
    const missing = await operator.post('/portal/applications/999999/approve', {});
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('not found');
    expect((await publisher.page('/portal/applications')).status).toBe(404);
    expect((await publisher.post('/portal/applications/1/approve', {})).status).toBe(404);
    expect((await operator.post(`/portal/offers/${privateOffer}/apply`, {})).status).toBe(404);
  });
});

describe('query plans of these reads', () => {
  it('read ranges of indexes and primary keys, never a scan of applications, caps or goals', async () => {
    const statements: [string, unknown[]][] = [
      [publisherOffersSql('promote'), [1, 10, 0, '2026-01-01T00:00:00Z']],
      [publisherOffersSql('apply'), [1, 10, 0, '2026-01-01T00:00:00Z']],
      [publisherOfferCapsSql('promote'), [1, 10, 0]],
      [publisherOfferCapsSql('apply'), [1, 10, 0]],
      [namedApplicationsSql('oldest'), ['pending', 10]],
      [namedApplicationsSql('newest'), ['approved', 10]],
    ];
    for (const [sql, binds] of statements) {
      const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .bind(...binds)
        .all<{ detail: string }>();
      const detail = results.map((r) => r.detail).join('\n');
      // `o` of a listing is its page of offers (a range of their primary key), scanned once built.
      expect(detail, sql).toContain('SEARCH o USING INTEGER PRIMARY KEY');
      expect(detail, sql).not.toMatch(/SCAN (a|app|c|g|p|offer_applications|caps|goals|offers|publishers)\b(?! USING)/);
    }
  });
});
