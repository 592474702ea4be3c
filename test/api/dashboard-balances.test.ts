// GET /dashboard shows what is owed and what is paid (pending, approved, not on a statement,
// draft, issued and unpaid, paid; payout and revenue per currency): the portal overview's own
// section, the same bytes, with the figures of GET /api/v1/reports/balances.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { balancesSection } from '../../src/portal/statements';
import { adminOk, createFixture, worker } from '../helpers';
import { elementById, textOf } from '../portal-helpers';
import { datedSale } from '../postback-helpers';

const SIGNED_IN = { authorization: `Basic ${btoa('operator:test-admin-token')}` };

describe('the operator dashboard', () => {
  it('shows the balances by state, as the portal overview draws them and the API reports them', async () => {
    const empty = await worker('/dashboard', { headers: SIGNED_IN });
    expect(textOf(elementById(await empty.text(), 'balances'))).toContain('No conversions yet.');

    const f = await createFixture();
    // 5% payout: January's 100.00 (stated, issued, paid: 5.00), February's 40.00 (a draft:
    // 2.00), 20.00 approved after the run (not on a statement: 1.00), 60.00 pending (3.00).
    await datedSale(f, '100.00', '2025-01-15', 'approved', 'jan-1');
    await adminOk('POST', '/statements', { period: '2025-01' });
    const january = (await adminOk<{ data: { id: number }[] }>('GET', '/statements?period=2025-01')).data[0]?.id;
    await adminOk('POST', `/statements/${january}/issue`);
    await adminOk('POST', `/statements/${january}/paid`, { reference: 'TR-1' });
    await datedSale(f, '40.00', '2025-02-10', 'approved', 'feb-1');
    await adminOk('POST', '/statements', { period: '2025-02' });
    await datedSale(f, '20.00', '2025-02-20', 'approved', 'feb-2');
    await datedSale(f, '60.00', '2025-02-21', 'pending', 'feb-3');

    const response = await worker('/dashboard', { headers: SIGNED_IN });
    expect(response.status).toBe(200);
    const page = await response.text();
    const table = elementById(page, 'balances');
    const payout = /<tr data-currency="EUR" data-side="payout">.*?<\/tr>/.exec(table)?.[0] ?? '';
    expect(textOf(payout)).toBe('EUR payout (publishers) 3.00 EUR 8.00 EUR 1.00 EUR 2.00 EUR 0.00 EUR 5.00 EUR');

    const api = await adminOk<{ data: { currency: string; payout: Record<string, string> }[] }>(
      'GET',
      '/reports/balances',
    );
    expect(api.data.find((b) => b.currency === 'EUR')?.payout).toMatchObject({
      pending: '3.00',
      approved: '8.00',
      unstated: '1.00',
      draft: '2.00',
      issued: '0.00',
      paid: '5.00',
    });

    // Not a second copy: the section is the portal overview's, byte for byte.
    const section = /<section aria-labelledby="balances-title">[\s\S]*?<\/section>/.exec(page)?.[0];
    expect(section).toBe(String(await balancesSection(env.DB)));
  });
});
