// /api/v1/clicks/:clickId: what a click ID says (verified, no storage needed), the click row
// if the clicks consumer has written it, and the conversions attributed to it.
import { Hono } from 'hono';
import { clickIdKeys, verifyClickId } from '../click/click-id';
import { getClick } from '../db/clicks';
import { conversionsForClick } from '../db/conversions';
import { ApiError } from '../lib/errors';
import { iso } from '../lib/time';
import { presentConversion } from './conversions';

export const clickRoutes = new Hono<{ Bindings: Env }>();

clickRoutes.get('/:clickId', async (c) => {
  const clickId = c.req.param('clickId');
  const parts = await verifyClickId(await clickIdKeys(c.env), clickId);
  if (!parts) throw new ApiError(404, 'click_not_found', 'Unknown click ID: not issued by this tracker, or altered');
  const [row, conversions] = await Promise.all([getClick(c.env.DB, clickId), conversionsForClick(c.env.DB, clickId)]);
  // The visitor hash and ingest batch are internal; the IP is stored only as a prefix.
  const { visitor_hash: _hash, ingest_batch: _batch, ...click } = row ?? { visitor_hash: null, ingest_batch: null };
  return c.json({
    click_id: clickId,
    offer_id: parts.offerId,
    publisher_id: parts.publisherId,
    clicked_at: iso(parts.clickedAt),
    key_id: parts.keyId,
    landed: row !== null,
    click: row ? click : null,
    conversions: conversions.map(presentConversion),
  });
});
