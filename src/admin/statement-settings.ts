// A publisher's minimum payout per currency, as PATCH /api/v1/publishers/:id takes it:
// {"EUR": "50.00"}; stored in minor units (publishers.minimum_payout), read by statement runs.
import * as z from 'zod';
import { isCurrency, parseAmount } from '../lib/money';

export const minimumPayout = z
  .record(z.string(), z.string())
  .nullable()
  .superRefine((value, ctx) => {
    const entries = Object.entries(value ?? {});
    if (entries.length > 50) ctx.addIssue({ code: 'custom', message: 'at most 50 currencies' });
    for (const [currency, amount] of entries) {
      if (!/^[A-Z]{3}$/.test(currency) || !isCurrency(currency)) {
        ctx.addIssue({ code: 'custom', path: [currency], message: 'is not an ISO 4217 currency code in capitals' });
        continue;
      }
      const parsed = parseAmount(amount, currency);
      if (!parsed.ok) ctx.addIssue({ code: 'custom', path: [currency], message: parsed.reason });
    }
  })
  .describe('Minimum payout per currency, e.g. {"EUR": "50.00"}: a smaller statement total is carried forward');

/** The JSON column value: minor units by currency, NULL when there are none. */
export function storedMinimumPayout(value: Record<string, string> | null): string | null {
  const entries = Object.entries(value ?? {}).map(([currency, amount]) => {
    const parsed = parseAmount(amount, currency);
    if (!parsed.ok) throw new Error(`unchecked minimum payout ${currency} ${amount}`);
    return [currency, parsed.minor] as const;
  });
  return entries.length > 0 ? JSON.stringify(Object.fromEntries(entries)) : null;
}
