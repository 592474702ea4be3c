// /api/v1/reports/balances: what is pending, approved, on statements and invoices, and paid,
// per currency (the operator's view of what is owed and what is paid).
import * as z from 'zod';
import { ApiRoutes, component, lazy } from '../openapi/operation';
import { shapes } from '../openapi/shapes';
import { formatBalance, readBalances } from '../statements/balances';

const balanceShapes = lazy(() => {
  const { money, currencyCode } = shapes();
  const Balance = component(
    'Balance',
    z.strictObject({
      pending: money.describe('Conversions pending'),
      approved: money.describe('Conversions approved (stated or not)'),
      unstated: money.describe('Approved but on no draft, issued or paid document yet (carried totals included)'),
      draft: money.describe('On draft documents'),
      issued: money.describe('On issued documents, not paid yet: owed'),
      paid: money.describe('On paid documents'),
    }),
  );
  const Balances = component(
    'Balances',
    z.strictObject({
      data: z.array(
        z.strictObject({
          currency: currencyCode,
          payout: Balance.describe('What publishers earn (statements)'),
          revenue: Balance.describe('What advertisers owe (invoices)'),
        }),
      ),
    }),
  );
  return { Balances };
});

export const balanceRoutes = new ApiRoutes('/api/v1/reports/balances', {
  name: 'Balances',
  description: 'What is owed and what is paid, by state and currency.',
});

balanceRoutes.route(
  {
    method: 'get',
    path: '',
    operationId: 'getBalances',
    summary: 'Amounts by state: pending, approved, on a statement or invoice, paid',
    description:
      'Per currency, for payout (publishers) and revenue (advertisers). Pending and approved come from the daily rollups; draft, issued and paid from the documents.',
    auth: 'admin',
    access: {},
    responses: { 200: { description: 'Balances by currency', schema: () => balanceShapes().Balances } },
  },
  async (c) => {
    const rows = await readBalances(c.env.DB);
    return {
      status: 200,
      body: {
        data: rows.map((r) => ({
          currency: r.currency,
          payout: formatBalance(r.payout, r.currency),
          revenue: formatBalance(r.revenue, r.currency),
        })),
      },
    };
  },
);
