// Building blocks of response shapes shared by several resources, built on first use (see
// lazy in operation.ts). Strict objects: tests read real answers with them, so a field a
// handler adds without declaring it fails.
import * as z from 'zod';
import { CONVERSION_EVENT_TYPES, CONVERSION_STATUSES } from '../conversions/status';
import { component, lazy } from './operation';

export const shapes = lazy(() => {
  const timestamp = z.iso.datetime().describe('UTC ISO 8601 time, e.g. 2026-11-23T10:15:00.000Z');
  const day = z.iso.date().describe('UTC day, YYYY-MM-DD');
  const money = z
    .string()
    .regex(/^-?\d+(\.\d+)?$/)
    .describe('Decimal amount as text in the currency beside it (e.g. "26.09"; "500" for JPY)');
  const currencyCode = z
    .string()
    .regex(/^[A-Z]{3}$/)
    .describe('ISO 4217 currency code');
  const rowId = z.int().min(1).max(0xffffffff);
  const conversionStatus = z.enum(CONVERSION_STATUSES);
  const eventType = z.enum(CONVERSION_EVENT_TYPES);
  const subIds = {
    sub1: z.string().nullable().describe('Publisher sub ID 1 from the tracking link'),
    sub2: z.string().nullable(),
    sub3: z.string().nullable(),
    sub4: z.string().nullable(),
    sub5: z.string().nullable(),
    sub6: z.string().nullable(),
  };
  // Awin's bannerId and groupId, from the tracking link's creative_id and creative_group_id.
  const creativeIds = {
    creative_id: z.int().nullable().describe("The tracking link's creative_id (Awin bannerId)"),
    creative_group_id: z.int().nullable().describe("The tracking link's creative_group_id (Awin groupId)"),
  };
  const ErrorBody = component(
    'Error',
    z
      .strictObject({
        error: z.strictObject({
          code: z.string().describe('Stable machine-readable code, e.g. invalid_request, not_found, unauthorized'),
          message: z.string().describe('What went wrong, for a person'),
          fields: z
            .record(z.string(), z.string())
            .optional()
            .describe('Each offending field (dotted path, e.g. goals.0.payout) with what is wrong with it'),
        }),
      })
      .describe('Every error answer of the API has this shape.'),
  );
  return { timestamp, day, money, currencyCode, rowId, conversionStatus, eventType, subIds, creativeIds, ErrorBody };
});

/** A page of a cursor-paginated list, named `<Item>Page`. */
export function pageOf<T extends z.ZodType>(id: string, item: T) {
  return component(
    `${id}Page`,
    z.strictObject({
      data: z.array(item),
      next_cursor: z.string().nullable().describe('Pass as cursor to read the next page; null on the last page'),
    }),
  );
}

/** The error answer every operation may give. */
export const errorShape = () => shapes().ErrorBody;
