// The browser-tracking settings of an offer in the admin API (issue 23): input fields, the
// statement that stores them in the offer's own batch, and how they read back.
import * as z from 'zod';
import { type OfferRow, updateOfferSettingsStatement } from '../db/offers';

/** The longest view-through window: 30 days (a view is weaker evidence than a click). */
export const MAX_VIEW_THROUGH_HOURS = 720;

export const browserSettingFields = {
  browser_tracking: z
    .boolean()
    .optional()
    .describe('Accept conversions from the browser (tag /t.js, pixel /px, /aff_l); default false'),
  view_through_hours: z
    .number()
    .int()
    .min(0)
    .max(MAX_VIEW_THROUGH_HOURS)
    .optional()
    .describe('Hours after an impression within which a click-less browser conversion is credited to it (0: none)'),
  hold_browser: z
    .boolean()
    .optional()
    .describe('Keep browser conversions pending: never approved on arrival nor by the validation period'),
};

type BrowserSettingInput = { [K in keyof typeof browserSettingFields]?: z.output<(typeof browserSettingFields)[K]> };

const flag = (value: boolean | undefined) => (value === undefined ? undefined : value ? 1 : 0);

export const browserSettingsStatement = (
  db: D1Database,
  offer: { id: number } | 'inserted',
  input: BrowserSettingInput,
) =>
  updateOfferSettingsStatement(db, offer, {
    browser_tracking: flag(input.browser_tracking),
    view_through_hours: input.view_through_hours,
    hold_browser: flag(input.hold_browser),
  });

export const browserSettingShape = {
  browser_tracking: z.boolean().describe('Whether conversions from the browser (tag, pixel) are accepted'),
  view_through_hours: z.int().describe('View-through window in hours after an impression (0: none)'),
  hold_browser: z.boolean().describe('Browser conversions stay pending (no automatic approval)'),
};

export const presentBrowserSettings = (row: OfferRow) => ({
  browser_tracking: row.browser_tracking === 1,
  view_through_hours: row.view_through_hours ?? 0,
  hold_browser: row.hold_browser === 1,
});
