// The portal's closing-the-month pages through the Worker, as signed-in people: an advertiser
// uploads a file (multipart, CSRF), sees the dry run, confirms, follows the job and downloads
// its outcomes (formula-looking values written as text); a publisher files a claim and follows
// it; the advertiser answers in the thread and accepts it; nobody sees the other side's money.
import { beforeAll, describe, expect, it } from 'vitest';
import { createFixture, type Fixture } from '../helpers';
import { elementById, type PortalPerson, rowsBy, signedIn, textOf } from '../portal-helpers';
import { conversion, getPostback, mintClick } from '../postback-helpers';

let f: Fixture;
let advertiser: PortalPerson;
let publisher: PortalPerson;
let operator: PortalPerson;

beforeAll(async () => {
  f = await createFixture();
  advertiser = await signedIn('ada@shop.example', {
    role: 'advertiser',
    advertiser_id: f.advertiserId,
    publisher_id: null,
  });
  publisher = await signedIn('pat@blog.example', {
    role: 'publisher',
    publisher_id: f.publisherId,
    advertiser_id: null,
  });
  operator = await signedIn('olga@network.example', { role: 'operator', publisher_id: null, advertiser_id: null });
});

async function upload(person: PortalPerson, path: string, file: string, csrf = person.csrf) {
  const form = new FormData();
  form.set('_csrf', csrf);
  form.set('file', new File([file], 'month.csv', { type: 'text/csv' }));
  const response = await person.fetch(path, { method: 'POST', body: form });
  return { status: response.status, text: await response.text(), location: response.headers.get('location') };
}

describe('portal: validation', () => {
  it('uploads a file, previews it, applies it on confirmation, and offers the outcomes as safe CSV', async () => {
    const ids: string[] = [];
    for (const order of ['P-1', 'P-2']) {
      const answer = await getPostback('/postback', {
        click_id: await mintClick(f),
        event: 'sale',
        order_id: order,
        amount: '40.00',
        key: f.postbackKey,
      });
      ids.push(answer.body.conversion_id);
    }
    expect((await advertiser.page('/portal/validations')).text).toContain('enctype="multipart/form-data"');
    const file = 'order_id,status,reason\nP-1,approved,=SUM(A1:A9)\nP-2,rejected,Cancelled\nP-9,approved,\n';
    // Without the session's CSRF token nothing happens.
    expect((await upload(advertiser, '/portal/validations/preview', file, 'forged')).status).toBe(403);
    const preview = await upload(advertiser, '/portal/validations/preview', file);
    expect(preview.status).toBe(200);
    expect(textOf(elementById(preview.text, 'validation-counts'))).toBe(
      '2 changed · 0 unchanged · 1 failed · 3 of 3 rows done',
    );
    const rows = rowsBy(elementById(preview.text, 'preview'), 'row');
    expect(textOf(rows.get('3') ?? '')).toContain('no conversion with order ID P-9');
    expect(await conversion(ids[0] as string)).toMatchObject({ status: 'pending' });
    // The confirm form carries the file back.
    const csv = /<textarea name="csv" hidden>([\s\S]*?)<\/textarea>/.exec(preview.text)?.[1] ?? '';
    expect(csv).toContain('P-2,rejected,Cancelled');
    const applied = await advertiser.fetch('/portal/validations', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: advertiser.csrf, csv: file }).toString(),
    });
    expect(applied.status).toBe(303);
    const job = applied.headers.get('location') ?? '';
    expect(job).toMatch(/^\/portal\/validations\/val_/);
    const page = await advertiser.page(job);
    expect(textOf(elementById(page.text, 'validation-counts'))).toBe(
      '2 changed · 0 unchanged · 1 failed · 3 of 3 rows done',
    );
    expect(await conversion(ids[0] as string)).toMatchObject({ status: 'approved' });
    expect(await conversion(ids[1] as string)).toMatchObject({ status: 'rejected' });
    const download = await advertiser.fetch(`${job}/results.csv`);
    expect(download.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = (await download.text()).split('\r\n');
    expect(lines[0]).toBe('row,line,order_id,conversion_id,offer_id,status,amount,reason,outcome,code,message,locked');
    expect(lines[1]).toBe(`1,2,P-1,${ids[0]},${f.offerId},approved,,'=SUM(A1:A9),changed,,pending -> approved,false`);
    // A publisher has no such page; another advertiser cannot read the job.
    expect((await publisher.page('/portal/validations')).status).toBe(404);
    const stranger = await createFixture();
    const other = await signedIn('otto@other.example', {
      role: 'advertiser',
      advertiser_id: stranger.advertiserId,
      publisher_id: null,
    });
    expect((await other.page(job)).status).toBe(404);
    expect((await operator.page(job)).status).toBe(200);
  });
});

describe('portal: claims', () => {
  it('a publisher files and follows a claim; the advertiser writes back and accepts it', async () => {
    const filed = await publisher.post('/portal/claims', {
      offer_id: String(f.offerId),
      order_id: 'PORTAL-1',
      amount: '75.00',
      currency: 'eur',
      transaction_date: new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10),
      note: 'Bought on the phone',
    });
    expect(filed.status).toBe(303);
    const list = await publisher.page('/portal/claims');
    expect(list.text).toContain('Claims</a>');
    const row = [...rowsBy(elementById(list.text, 'claims'), 'claim-id').values()][0] ?? '';
    expect(textOf(row)).toContain('PORTAL-1');
    expect(textOf(row)).toContain('75.00 EUR');
    const id = /data-claim-id="(\d+)"/.exec(list.text)?.[1] as string;
    // A bad claim is refused on the page, naming the field.
    const bad = await publisher.post('/portal/claims', {
      offer_id: String(f.offerId),
      order_id: 'X',
      amount: 'abc',
      currency: 'EUR',
      transaction_date: '2026-01-01',
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('amount');
    // The advertiser sees it, writes in the thread, and accepts it.
    const seen = await advertiser.page(`/portal/claims/${id}`);
    expect(seen.status).toBe(200);
    expect(seen.text).toContain('id="accept"');
    expect((await advertiser.post(`/portal/claims/${id}/messages`, { message: 'Found it, thanks' })).status).toBe(200);
    const accepted = await advertiser.post(`/portal/claims/${id}/accept`, { goal: 'sale' });
    expect(accepted.status).toBe(200);
    const cvId = /conversion (cv_[A-Za-z0-9_-]+) recorded/.exec(accepted.text)?.[1] as string;
    expect(await conversion(cvId)).toMatchObject({ source: 'claim', amount: 7500, status: 'approved' });
    // The publisher reads the outcome and the thread; no page shows revenue or payout.
    const followed = await publisher.page(`/portal/claims/${id}`);
    expect(textOf(elementById(followed.text, 'thread'))).toContain('advertiser');
    expect(textOf(elementById(followed.text, 'thread'))).toContain('Found it, thanks');
    expect(followed.text).not.toContain('id="accept"');
    for (const text of [followed.text, seen.text, list.text]) expect(text).not.toMatch(/revenue|payout/i);
    // A publisher cannot decide.
    expect((await publisher.post(`/portal/claims/${id}/reject`, { reason: 'no' })).status).toBe(404);
    expect((await operator.page(`/portal/claims/${id}`)).status).toBe(200);
  });
});
