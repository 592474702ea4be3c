// /api/v1/exchange-rates/{base}/{quote}: the dated rate history used to price sales in another
// currency than the offer's. A PUT adds the rate in force from valid_from (default: now); a
// conversion uses the rate in force when it is created, and keeps it.
import * as z from 'zod';
import { parseRate } from '../conversions/exchange';
import { insertExchangeRate, rateHistory } from '../db/exchange-rates';
import { badRequest } from '../lib/errors';
import { isCurrency } from '../lib/money';
import { nowIso } from '../lib/time';
import { ApiRoutes, component, lazy, pathParam } from '../openapi/operation';
import { shapes } from '../openapi/shapes';

const currencyParam = pathParam({
  what: 'Currency',
  schema: z.string().regex(/^[A-Z]{3}$/),
  description: 'ISO 4217 currency code',
  example: 'USD',
  read: (text) => (isCurrency(text) ? text : null),
});

export const exchangeRateInput = z.strictObject({
  rate: z
    .union([z.string(), z.number().positive()])
    .transform(String)
    .describe('Units of quote per unit of base, decimal text (at most 12 decimals), e.g. "0.9217"'),
  valid_from: z.iso
    .datetime({ offset: true })
    .transform((v) => new Date(v).toISOString())
    .optional()
    .describe('In force from this time on (default: now)'),
});

const rateShapes = lazy(() => {
  const { timestamp } = shapes();
  const Rate = z.strictObject({ rate: z.string(), valid_from: timestamp });
  return {
    ExchangeRates: component(
      'ExchangeRates',
      z.strictObject({
        base: z.string(),
        quote: z.string(),
        current: Rate.nullable().describe('The rate in force now'),
        history: z.array(Rate).describe('Newest first (at most 100)'),
      }),
    ),
  };
});

export const exchangeRateRoutes = new ApiRoutes('/api/v1/exchange-rates', {
  name: 'Exchange rates',
  description: 'Dated exchange rates for sales in another currency than the offer.',
});

const params = { base: currencyParam, quote: currencyParam };

async function answer(db: D1Database, base: string, quote: string) {
  const now = nowIso();
  const history = (await rateHistory(db, base, quote)).map((r) => ({ rate: r.rate, valid_from: r.valid_from }));
  return { base, quote, current: history.find((r) => r.valid_from <= now) ?? null, history };
}

exchangeRateRoutes.route(
  {
    method: 'put',
    path: '/{base}/{quote}',
    operationId: 'putExchangeRate',
    summary: 'Add an exchange rate',
    description: 'Adds a rate to the history of the pair; earlier conversions keep the rate they were priced at.',
    auth: 'admin',
    params,
    body: { schema: exchangeRateInput, required: true, example: { rate: '0.9217' } },
    responses: { 200: { description: 'The pair with its history', schema: () => rateShapes().ExchangeRates } },
  },
  async (c, { params: { base, quote }, body }) => {
    if (base === quote) throw badRequest('base and quote must differ', { quote: 'must differ from base' });
    const rate = parseRate(body.rate);
    if (!rate.ok) throw badRequest('Invalid rate', { rate: rate.reason });
    const now = nowIso();
    await insertExchangeRate(c.env.DB, {
      base,
      quote,
      rate: rate.text,
      valid_from: body.valid_from ?? now,
      created_at: now,
    });
    return { status: 200, body: await answer(c.env.DB, base, quote) };
  },
);

exchangeRateRoutes.route(
  {
    method: 'get',
    path: '/{base}/{quote}',
    operationId: 'getExchangeRates',
    summary: 'Read the rate history of a pair',
    auth: 'admin',
    params,
    responses: { 200: { description: 'The pair with its history', schema: () => rateShapes().ExchangeRates } },
  },
  async (c, { params: { base, quote } }) => ({ status: 200, body: await answer(c.env.DB, base, quote) }),
);
