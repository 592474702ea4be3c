// Statements and invoices in the portal, through the Worker: the operator closes a month,
// issues and marks paid with forms (CSRF checked); a publisher sees its own statements and
// their printable page, never another's and never revenue; an advertiser its own invoices,
// never payout; the operator's overview shows what is owed and what is paid.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminOk, createFixture, type Fixture } from '../helpers';
import { elementById, type PortalPerson, signedIn, textOf } from '../portal-helpers';
import { mintLandedClick, postJson } from '../postback-helpers';

let mine: Fixture;
let theirs: Fixture;
let operator: PortalPerson;
let publisher: PortalPerson;
let advertiser: PortalPerson;

async function sale(f: Fixture, amount: string, orderId: string) {
  const res = await postJson('/postback', {
    click_id: await mintLandedClick(f),
    event: 'sale',
    order_id: orderId,
    amount,
    currency: 'EUR',
    status: 'approved',
    key: f.postbackKey,
  });
  await env.DB.prepare("UPDATE conversions SET created_at = '2026-06-10T09:00:00.000Z' WHERE id = ?")
    .bind(res.body.conversion_id)
    .run();
}

const statementId = async (publisherId: number) =>
  (await adminOk<{ data: { id: number }[] }>('GET', `/statements?publisher_id=${publisherId}`)).data[0]?.id;

beforeAll(async () => {
  mine = await createFixture();
  theirs = await createFixture();
  await sale(mine, '250.00', '<b>order-1</b>');
  await sale(theirs, '90.00', 'order-2');
  operator = await signedIn('op@statements.example', { role: 'operator', publisher_id: null, advertiser_id: null });
  publisher = await signedIn('pub@statements.example', {
    role: 'publisher',
    publisher_id: mine.publisherId,
    advertiser_id: null,
  });
  advertiser = await signedIn('adv@statements.example', {
    role: 'advertiser',
    publisher_id: null,
    advertiser_id: mine.advertiserId,
  });
});

describe('the operator closes a month in the portal', () => {
  it('builds, issues and pays with forms; a form without the CSRF token changes nothing', async () => {
    const refused = await operator.post('/portal/statements', { period: '2026-06' }, 'wrong');
    expect(refused.status).toBe(403);
    expect(await statementId(mine.publisherId)).toBeUndefined();

    const bad = await operator.post('/portal/statements', { period: 'June' });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/period: must be a month, YYYY-MM/);

    const built = await operator.post('/portal/statements', { period: '2026-06' });
    expect(built.status).toBe(200);
    expect(textOf(built.text)).toMatch(/2026-06: 2 draft statements, 0 carried forward, 2 lines\./);
    const id = (await statementId(mine.publisherId)) as number;
    expect(elementById(built.text, 'documents')).toContain(`/portal/statements/${id}`);

    const issued = await operator.post(`/portal/statements/${id}/issue`, {});
    expect(issued.status).toBe(200);
    expect(textOf(issued.text)).toContain(`Statement ${id} issued`);
    const again = await operator.post(`/portal/statements/${id}/issue`, {});
    expect(again.status).toBe(400);
    expect(textOf(again.text)).toMatch(/is issued: only a draft can be issued/);

    const paid = await operator.post(`/portal/statements/${id}/paid`, { reference: 'TR-77' });
    expect(paid.status).toBe(200);
    expect(textOf(elementById(paid.text, 'document'))).toMatch(/Reference\s*TR-77/);

    const invoices = await operator.post('/portal/invoices', { period: '2026-06' });
    expect(textOf(invoices.text)).toMatch(/2026-06: 2 draft invoices/);

    const overview = await operator.page('/portal');
    const balances = elementById(overview.text, 'balances');
    expect(textOf(balances)).toMatch(/EUR payout \(publishers\)/);
    // 250.00 and 90.00 at 5% payout: 12.50 paid to mine, 4.50 in a draft of theirs.
    expect(balances).toMatch(
      /data-side="payout"><th scope="row">EUR payout \(publishers\)<\/th>(<td class="num">[^<]*<\/td>){3}<td class="num">4.50 EUR<\/td><td class="num">0.00 EUR<\/td><td class="num">12.50 EUR<\/td>/,
    );
  });
});

describe('each party sees its own documents', () => {
  it('a publisher: its statements and printable page, no revenue, no other publisher’s', async () => {
    const id = (await statementId(mine.publisherId)) as number;
    const other = (await statementId(theirs.publisherId)) as number;
    const list = await publisher.page('/portal/statements');
    expect(list.status).toBe(200);
    expect(elementById(list.text, 'documents')).toContain(`/portal/statements/${id}`);
    expect(elementById(list.text, 'documents')).not.toContain(`/portal/statements/${other}`);
    const printable = await publisher.page(`/portal/statements/${id}`);
    expect(printable.status).toBe(200);
    const article = elementById(printable.text, 'document');
    expect(textOf(article)).toMatch(/Total \(1 lines\)\s*12.50 EUR/);
    expect(article).toContain('&lt;b&gt;order-1&lt;/b&gt;');
    expect(printable.text).not.toMatch(/revenue|Revenue/);
    expect(printable.text).not.toMatch(/<form[^>]*\/issue/);
    expect((await publisher.page(`/portal/statements/${other}`)).status).toBe(404);
    expect((await publisher.page('/portal/invoices')).status).toBe(404);
    expect((await publisher.post(`/portal/statements/${id}/issue`, {})).status).toBe(404);
  });

  it('an advertiser: its invoices, no payout', async () => {
    const list = await advertiser.page('/portal/invoices');
    expect(list.status).toBe(200);
    const id = (await adminOk<{ data: { id: number }[] }>('GET', `/invoices?advertiser_id=${mine.advertiserId}`))
      .data[0]?.id;
    expect(elementById(list.text, 'documents')).toContain(`/portal/invoices/${id}`);
    const printable = await advertiser.page(`/portal/invoices/${id}`);
    expect(textOf(elementById(printable.text, 'document'))).toMatch(/Total \(1 lines\)\s*25.00 EUR/);
    expect(printable.text).not.toMatch(/payout|Payout/);
    expect((await advertiser.page('/portal/statements')).status).toBe(404);
  });
});
