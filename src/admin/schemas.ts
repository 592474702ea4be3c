// zod building blocks shared by admin resources. Each schema is the single description of an
// input: it validates the request, types the handler and feeds the OpenAPI document.
import * as z from 'zod';
import { isTooWideForAllowList, parseCidr, WIDEST_ALLOWED_PREFIX } from '../lib/ip';
import { isCurrency } from '../lib/money';
import { type PathParam, pathParam } from '../openapi/operation';

export const idParam = z.coerce.number().int().positive().max(0xffffffff);

/** A numeric resource id in a URL path: anything but a plain id in range names no resource, so 404. */
export const idPath = (what: string): PathParam<number> =>
  pathParam({
    what,
    schema: idParam,
    description: `${what} id. Anything but a positive integer names no ${what.toLowerCase()} (404).`,
    example: 1,
    read: (text) => (/^[1-9]\d{0,9}$/.test(text) && Number(text) <= 0xffffffff ? Number(text) : null),
  });

export const name = z.string().trim().min(1, 'must not be empty').max(200).describe('Display name');

export const currency = z
  .string()
  .regex(/^[A-Z]{3}$/, 'must be a three-letter ISO 4217 code in capitals')
  .refine(isCurrency, 'is not an ISO 4217 currency');

/** A decimal money amount as a string ("5.00"); a JSON number is accepted and read as text. */
export const decimal = z
  .union([z.string(), z.number().nonnegative()])
  .transform((v) => String(v))
  .refine((v) => /^\d{1,15}(\.\d{1,12})?$/.test(v), 'must be a non-negative decimal like "5.00"');

export const percent = z
  .number()
  .min(0)
  .max(10_000)
  .refine((v) => Math.abs(Math.round(v * 100) - v * 100) < 1e-6, 'must have at most 2 decimal places');

function isHttpUrl(text: string): boolean {
  if (!/^https?:\/\/[^/?#\s\\]/i.test(text) || /[\s\\]/.test(text)) return false;
  try {
    const url = new URL(text);
    return !url.username && !url.password;
  } catch {
    return false;
  }
}

export const httpUrl = z.string().max(2048).refine(isHttpUrl, 'must be an absolute http or https URL');

/** A URL that may contain {macros}; checked with the macros replaced by sample values. */
export const httpUrlTemplate = z
  .string()
  .max(2048)
  .refine((v) => isHttpUrl(v.replace(/\{[a-z0-9_]+\}/g, 'x')), 'must be an absolute http or https URL');

export const hostname = z
  .string()
  .trim()
  .toLowerCase()
  .regex(
    /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/,
    'must be a host name such as shop.example.com or *.example.com',
  );

/** Allow-list entries: addresses or networks no wider than an IPv4 /16 or an IPv6 /32 (see lib/ip.ts). */
export const cidrList = z
  .array(
    z.string().superRefine((v, ctx) => {
      const cidr = parseCidr(v);
      if (!cidr) ctx.addIssue({ code: 'custom', message: 'must be an IPv4 or IPv6 address or CIDR' });
      else if (isTooWideForAllowList(cidr)) {
        const { ipv4, ipv6 } = WIDEST_ALLOWED_PREFIX;
        ctx.addIssue({
          code: 'custom',
          message: `is wider than an allow-list may be: at most /${ipv4} for IPv4 and /${ipv6} for IPv6, so that it names the advertiser's servers`,
        });
      }
    }),
  )
  .max(100);

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A time filter bound: a UTC day ('2026-11-23') or an ISO 8601 timestamp. `from` is inclusive;
 * `to` is exclusive, except that a day given as `to` includes that whole day.
 */
export const timeBound = (edge: 'from' | 'to') =>
  z
    .string()
    .refine((v) => (DATE.test(v) || /^\d{4}-\d{2}-\d{2}T/.test(v)) && !Number.isNaN(Date.parse(v)), {
      message: 'must be a date (YYYY-MM-DD) or an ISO 8601 timestamp',
    })
    .transform((v) => {
      const ms = Date.parse(DATE.test(v) ? `${v}T00:00:00.000Z` : v);
      return new Date(DATE.test(v) && edge === 'to' ? ms + 86_400_000 : ms).toISOString();
    });

/** Query filters shared by the lists. */
export const filters = {
  advertiser_id: () => idParam.optional().describe('Only this advertiser'),
  offer_id: () => idParam.optional().describe('Only this offer'),
  publisher_id: () => idParam.optional().describe('Only this publisher'),
  click_id: () => z.string().max(255).optional().describe('Only this click ID'),
  from: () => timeBound('from').optional().describe('From this UTC day (YYYY-MM-DD) or ISO 8601 time, inclusive'),
  to: () =>
    timeBound('to')
      .optional()
      .describe('Up to this ISO 8601 time (exclusive), or through this whole UTC day (YYYY-MM-DD)'),
};
