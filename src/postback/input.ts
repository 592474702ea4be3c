// The canonical parameters of a postback, checked for shape: lengths, enums, numbers, the
// products list. Money is parsed later (money.ts), once the offer's currency is known.
import * as z from 'zod';
import { CONVERSION_STATUSES } from '../conversions/status';
import { badRequest, type FieldErrors } from '../lib/errors';
import { isCurrency } from '../lib/money';
import type { CanonicalField, MappedParams } from './profiles';

// biome-ignore lint/suspicious/noControlCharactersInRegex: identifiers with control characters are refused
const CONTROL = /[\u0000-\u001f\u007f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: free text may hold tabs and newlines, nothing else
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

const identifier = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((v) => !CONTROL.test(v), 'must not contain control characters');

const text = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((v) => !CONTROL_IN_TEXT.test(v), 'must not contain control characters');

const numericId = z
  .string()
  .regex(/^[1-9]\d{0,9}$/, 'must be a positive integer')
  .transform(Number)
  .refine((v) => v <= 0xffffffff, 'is too large');

const scalarText = (max: number) =>
  z
    .union([z.string(), z.number()])
    .transform(String)
    .pipe(text(max))
    .nullish()
    .transform((v) => (v === undefined || v === '' ? null : v));

export const productLineInput = z.object({
  sku: scalarText(100),
  name: scalarText(200),
  unit_price: z
    .union([z.string(), z.number().nonnegative()])
    .transform(String)
    .refine((v) => v.trim() !== '', 'is required'),
  // Missing quantity means 1.
  quantity: z
    .union([z.number(), z.string().regex(/^\d+$/, 'must be a whole number').transform(Number)])
    .pipe(z.number().int('must be a whole number').min(1).max(1_000_000))
    .optional()
    .transform((v) => v ?? 1),
  category: scalarText(100),
  commission_group: scalarText(64),
});

export type ProductLineInput = z.output<typeof productLineInput>;

const products = z
  .string()
  .transform((value, ctx) => {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of products' });
      return z.NEVER;
    }
  })
  .pipe(z.array(productLineInput, 'must be a JSON array of products').min(1).max(100));

export const postbackInput = z.object({
  click_id: identifier(255).optional(),
  event: identifier(64).optional(),
  order_id: identifier(255).optional(),
  amount: z.string().max(40).optional(),
  currency: z
    .string()
    .transform((v) => v.trim().toUpperCase())
    .refine(isCurrency, 'is not an ISO 4217 currency code')
    .optional(),
  status: z.enum(CONVERSION_STATUSES, `must be one of ${CONVERSION_STATUSES.join(', ')}`).optional(),
  voucher: identifier(255).optional(),
  description: text(1000).optional(),
  products: products.optional(),
  key: z.string().optional(),
  offer_id: numericId.optional(),
  publisher_id: numericId.optional(),
  sub1: identifier(255).optional(),
  sub2: identifier(255).optional(),
  sub3: identifier(255).optional(),
  sub4: identifier(255).optional(),
  sub5: identifier(255).optional(),
  sub6: identifier(255).optional(),
  reason: text(500).optional(),
  /** Awin's de-duplication parameter: which channel won the sale (docs/coupons.md). */
  channel: identifier(64).optional(),
});

export type PostbackInput = z.output<typeof postbackInput>;

/**
 * Validated canonical parameters, or a 400 whose fields carry the names the advertiser sent
 * (`tam`, not `amount`, for a TradeTracker postback).
 */
export function parsePostbackInput(mapped: MappedParams): PostbackInput {
  const result = postbackInput.safeParse(mapped.params);
  if (result.success) return result.data;
  const fields: FieldErrors = {};
  for (const issue of result.error.issues) {
    const [head, ...rest] = issue.path.map(String);
    const name = mapped.names[head as CanonicalField] ?? head ?? '_';
    fields[[name, ...rest].join('.')] ??= issue.message;
  }
  throw badRequest(`Invalid ${Object.keys(fields).join(', ')}`, fields);
}

/**
 * TradeTracker's `pid` names the product, which is the commission group: when the offer has a
 * group of that code and the callback lists no products, the sale becomes one line in that
 * group, so the group's payout rule prices it. Any other pid is ignored, as before.
 */
export function withCommissionGroup(
  input: PostbackInput,
  pid: string | undefined,
  groupCodes: ReadonlySet<string>,
): PostbackInput {
  if (pid === undefined || input.products !== undefined || !groupCodes.has(pid)) return input;
  const line = {
    sku: null,
    name: null,
    unit_price: input.amount ?? '0',
    quantity: 1,
    category: null,
    commission_group: pid,
  };
  return { ...input, products: [line] };
}
