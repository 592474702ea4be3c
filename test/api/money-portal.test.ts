// What each party's people see of a conversion's money in the portal (DESIGN.md "What each party
// may see"): the API read with a portal session, the pages, the CSV exports, and the answer an
// advertiser's test conversion shows. A sale of 123.40 EUR: revenue 12.34, payout 6.17.
import { beforeAll, describe, expect, it } from 'vitest';
import { createFixture, type Fixture } from '../helpers';
import { type PortalPerson, signedIn } from '../portal-helpers';
import { getPostback, mintLandedClick } from '../postback-helpers';

let f: Fixture;
let clickId: string;
let publisher: PortalPerson;
let advertiser: PortalPerson;
let operator: PortalPerson;

const today = new Date().toISOString().slice(0, 10);

beforeAll(async () => {
  f = await createFixture({ name: 'Portal money' });
  clickId = await mintLandedClick(f);
  const sale = await getPostback('/postback', {
    click_id: clickId,
    event: 'sale',
    order_id: 'PM-1',
    amount: '123.40',
    descrMerchant: 'our margin note',
    key: f.postbackKey,
  });
  expect(sale.body).toMatchObject({ revenue: '12.34', amount: '123.40' });
  publisher = await signedIn('money-pub@blog.example', {
    role: 'publisher',
    publisher_id: f.publisherId,
    advertiser_id: null,
  });
  advertiser = await signedIn('money-adv@shop.example', {
    role: 'advertiser',
    advertiser_id: f.advertiserId,
    publisher_id: null,
  });
  operator = await signedIn('money-op@network.example', { role: 'operator', publisher_id: null, advertiser_id: null });
});

describe('the API read with a portal session', () => {
  it('a publisher reads payout and never revenue or the postback log, in conversions, reports and the click view', async () => {
    for (const path of [
      '/api/v1/conversions',
      `/api/v1/reports?from=${today}&to=${today}`,
      `/api/v1/clicks/${clickId}`,
    ]) {
      const answer = await publisher.page(path);
      expect(answer.status, path).toBe(200);
      expect(answer.text, path).toContain('"payout":"6.17"');
      expect(answer.text, path).not.toMatch(/revenue|12\.34|postbacks|our margin note/);
    }
  });

  it('an advertiser reads revenue and never payout', async () => {
    for (const path of [
      '/api/v1/conversions',
      `/api/v1/reports?from=${today}&to=${today}`,
      `/api/v1/clicks/${clickId}`,
    ]) {
      const answer = await advertiser.page(path);
      expect(answer.status, path).toBe(200);
      expect(answer.text, path).toContain('"revenue":"12.34"');
      expect(answer.text, path).not.toMatch(/"payout(_approved|_rule)?"|6\.17/);
    }
  });
});

describe('pages and CSV exports', () => {
  const range = `from=${today}&to=${today}`;

  it('shows each party its own side of the money, the operator both', async () => {
    for (const path of [`/portal/conversions?${range}`, `/portal/reports?${range}&group=offer`]) {
      const pub = await publisher.page(path);
      expect(pub.text, path).toContain('6.17');
      expect(pub.text, path).not.toContain('12.34');
      const adv = await advertiser.page(path);
      expect(adv.text, path).toContain('12.34');
      expect(adv.text, path).not.toContain('6.17');
      const op = await operator.page(path);
      expect(op.text, path).toContain('12.34');
      expect(op.text, path).toContain('6.17');
    }
  });

  it('exports only the columns of the reader’s side', async () => {
    const header = async (session: PortalPerson, path: string) => {
      const text = (await session.page(path)).text;
      return { columns: (text.split('\r\n')[0] ?? '').split(','), text };
    };
    for (const path of [`/portal/conversions.csv?${range}`, `/portal/reports.csv?${range}&group=offer`]) {
      const pub = await header(publisher, path);
      expect(pub.columns, path).toContain('payout');
      expect(pub.columns, path).not.toContain('revenue');
      expect(pub.text, path).not.toContain('12.34');
      const adv = await header(advertiser, path);
      expect(adv.columns, path).toContain('revenue');
      expect(adv.columns, path).not.toContain('payout');
      expect(adv.text, path).not.toContain('6.17');
      expect((await header(operator, path)).columns, path).toEqual(expect.arrayContaining(['payout', 'revenue']));
    }
  });

  it("an advertiser's test conversion shows the postback's answer without the publisher's payout", async () => {
    const sent = await advertiser.post('/portal/integration/test', {
      click_id: await mintLandedClick(f),
      event: 'sale',
      order_id: 'PM-TEST',
      amount: '123.40',
      key: f.postbackKey,
    });
    expect(sent.status).toBe(200);
    expect(sent.text).toContain('Test conversion accepted');
    expect(sent.text).toContain('&quot;revenue&quot;:&quot;12.34&quot;');
    expect(sent.text).not.toMatch(/payout&quot;:|6\.17/);
  });
});
