// Typed fixtures: rows with every column defaulted to something ordinary, taking a typed partial
// for what a test cares about, and written through the project's own src/db (and flow) functions,
// so that when storage changes the fixtures follow instead of drifting from it.
import { env } from 'cloudflare:workers';
import { ingestClicks } from '../src/click/ingest';
import type { ConversionSnapshot } from '../src/conversions/snapshot';
import type { ClickRecord, ClickRow } from '../src/db/clicks';
import {
  type ConversionEventRow,
  type ConversionRow,
  insertConversionStatement,
  insertEventIfConversionStatement,
} from '../src/db/conversions';
import type { DeliveryRow } from '../src/db/deliveries';
import { type EndpointRow, type EndpointValues, insertEndpoint } from '../src/db/endpoints';
import { getOffer } from '../src/db/offers';
import { deliveryStatements } from '../src/notify/fanout';
import { clickRow, type Fixture } from './helpers';

type OfferAndPublisher = Pick<Fixture, 'offerId' | 'publisherId'>;

let serial = 0;
/** An id no other fixture of this test file uses. */
const fixtureId = (prefix: string) => `${prefix}${Date.now().toString(36)}-${++serial}`;

// ---- clicks

/**
 * A click record as the click route hands it to the clicks Queue, for feeding the consumer
 * directly: a desktop browser click from the Netherlands by visitor "visitor-a" at `clickedAt`,
 * with any field overridden.
 */
export function clickRecord(
  f: OfferAndPublisher,
  clickedAt: string,
  overrides: Partial<ClickRecord> = {},
): ClickRecord {
  return {
    click_id: fixtureId('rec-'),
    clicked_at: clickedAt,
    offer_id: f.offerId,
    publisher_id: f.publisherId,
    sub1: null,
    sub2: null,
    sub3: null,
    sub4: null,
    sub5: null,
    deep_link: null,
    referrer: null,
    search_engine: null,
    search_phrase: null,
    country: 'NL',
    region: null,
    city: null,
    colo: 'AMS',
    asn: 1136,
    user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0',
    device: 'desktop',
    ip_prefix: '192.0.2.0/24',
    visitor_hash: 'visitor-a',
    is_bot: 0,
    ...overrides,
  };
}

/** A click as a stored row (what attribution reads), for building snapshots without D1. */
export function storedClick(f: OfferAndPublisher, clickedAt: string, overrides: Partial<ClickRow> = {}): ClickRow {
  return { ...clickRecord(f, clickedAt), is_unique: 1, ingest_batch: 'fixture', ...overrides };
}

/**
 * Stores clicks the way the clicks consumer does (same statements, same uniqueness and rollups).
 * The consumer ignores a click ID it already has; a fixture that collides is a broken test, so
 * that fails here instead of quietly storing fewer rows.
 */
export async function insertClicks(records: ClickRecord[]): Promise<void> {
  await ingestClicks(env.DB, records);
  const ids = new Set(records.map((r) => r.click_id));
  // Read back through clickRow, the tests' one read of a stored click, so this check follows
  // wherever clicks are stored.
  const stored = await Promise.all([...ids].map((id) => clickRow(id)));
  const missing = stored.filter((row) => !row).length;
  if (ids.size !== records.length || missing > 0)
    throw new Error(`${records.length} fixture clicks, ${ids.size} distinct IDs, ${missing} not stored`);
}

// ---- offers and goals

/** The id of the offer's goal `key`, or of its first goal. */
export async function goalIdOf(offerId: number, key?: string): Promise<number> {
  const goal = await env.DB.prepare(
    `SELECT id FROM goals WHERE offer_id = ?1 AND (?2 IS NULL OR key = ?2) ORDER BY id LIMIT 1`,
  )
    .bind(offerId, key ?? null)
    .first<{ id: number }>();
  if (!goal) throw new Error(`offer ${offerId} has no goal ${key ?? ''}`);
  return goal.id;
}

/**
 * Copies an offer row under another id straight into D1, past the admin API and so past the
 * config caches (for tests of what the caches do when D1 changes behind their back).
 */
export async function copyOfferRow(fromOfferId: number, toOfferId: number): Promise<void> {
  const offer = await getOffer(env.DB, fromOfferId);
  if (!offer) throw new Error(`no offer ${fromOfferId} to copy`);
  // Every stored column but the id, read off the row itself so a new column is copied too.
  const columns = Object.keys(offer)
    .filter((column) => column !== 'id')
    .join(', ');
  await env.DB.prepare(`INSERT INTO offers (id, ${columns}) SELECT ?, ${columns} FROM offers WHERE id = ?`)
    .bind(toOfferId, fromOfferId)
    .run();
}

// ---- conversions and their events

/**
 * A pending conversion of the fixture's offer, publisher and advertiser on goal `goalId`: no
 * click, no order, amounts zero, in EUR, created now; any column overridden.
 */
export function conversionRow(
  f: Pick<Fixture, 'offerId' | 'publisherId' | 'advertiserId'>,
  goalId: number,
  overrides: Partial<ConversionRow> = {},
): ConversionRow {
  const id = overrides.id ?? fixtureId('cv_fx_');
  const now = new Date().toISOString();
  return {
    id,
    offer_id: f.offerId,
    goal_id: goalId,
    advertiser_id: f.advertiserId,
    publisher_id: f.publisherId,
    click_id: null,
    click_time: null,
    order_id: null,
    dedupe_key: `r:${id}`,
    status: 'pending',
    currency: 'EUR',
    amount: 0,
    payout_currency: 'EUR',
    revenue: 0,
    payout: 0,
    voucher: null,
    description: null,
    products: null,
    sub1: null,
    sub2: null,
    sub3: null,
    sub4: null,
    sub5: null,
    profile: 'canonical',
    source: 'server',
    flags: null,
    created_at: now,
    updated_at: now,
    ...overrides,
  };
}

/** An event of `conversion`: unless overridden, its conversion.created event by a postback at its creation time. */
export function conversionEventRow(
  conversion: Pick<ConversionRow, 'id' | 'status' | 'created_at'>,
  overrides: Partial<ConversionEventRow> = {},
): ConversionEventRow {
  return {
    id: `ev_${conversion.id}`,
    conversion_id: conversion.id,
    type: 'conversion.created',
    from_status: null,
    to_status: conversion.status,
    actor: 'postback',
    reason: null,
    snapshot: '{}',
    created_at: conversion.created_at,
    ...overrides,
  };
}

/** Runs a batch whose first `mustWrite` statements must each write one row. */
async function batchWriting(statements: D1PreparedStatement[], mustWrite: number) {
  const results = await env.DB.batch(statements);
  results.slice(0, mustWrite).forEach((result, i) => {
    if (result.meta.changes !== 1) throw new Error(`fixture statement ${i} wrote ${result.meta.changes} rows`);
  });
  return results;
}

/** Stores a conversion as the postback flow writes it (its dedupe key must be free). */
export async function seedConversion(conversion: ConversionRow): Promise<ConversionRow> {
  await batchWriting([insertConversionStatement(env.DB, conversion)], 1);
  return conversion;
}

/** Stores events of existing conversions in one batch. */
export async function seedConversionEvents(events: ConversionEventRow[]): Promise<void> {
  await batchWriting(
    events.map((event) => insertEventIfConversionStatement(env.DB, event)),
    events.length,
  );
}

/**
 * A conversion, its conversion.created event (with `snapshot`, if given) and the deliveries
 * fanned out from it to the publisher's matching endpoints, in one batch as the postback flow
 * writes them. No queue message is sent: tests hand deliveries to the consumer or the cron.
 */
export async function seedCreatedConversion(
  conversion: ConversionRow,
  options: { snapshot?: ConversionSnapshot; event?: Partial<ConversionEventRow> } = {},
): Promise<{ conversion: ConversionRow; eventId: string; deliveries: DeliveryRow[] }> {
  const event = conversionEventRow(conversion, {
    ...(options.snapshot ? { snapshot: JSON.stringify(options.snapshot) } : {}),
    ...options.event,
  });
  await batchWriting(
    [
      insertConversionStatement(env.DB, conversion),
      insertEventIfConversionStatement(env.DB, event),
      ...deliveryStatements(
        env.DB,
        {
          id: event.id,
          conversion_id: conversion.id,
          type: event.type,
          offer_id: conversion.offer_id,
          publisher_id: conversion.publisher_id,
        },
        event.created_at,
      ),
    ],
    2,
  );
  const { results } = await env.DB.prepare('SELECT * FROM deliveries WHERE event_id = ? ORDER BY endpoint_id')
    .bind(event.id)
    .all<DeliveryRow>();
  return { conversion, eventId: event.id, deliveries: results };
}

// ---- endpoints and deliveries

/** An endpoint signing with a fixed secret; `publisher_id` and `url` are the test's choice. */
export async function seedEndpoint(
  values: Pick<EndpointValues, 'publisher_id' | 'url'> & Partial<EndpointValues>,
): Promise<EndpointRow> {
  const now = new Date().toISOString();
  const row: EndpointValues = {
    method: 'POST',
    format: 'json',
    form_field: null,
    events: JSON.stringify(['conversion.created']),
    offer_ids: null,
    include_products: 0,
    include_click_data: 0,
    signing_secret: 'whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdHRlc3Q=',
    previous_signing_secret: null,
    previous_secret_expires_at: null,
    status: 'active',
    disabled_reason: null,
    created_at: now,
    updated_at: now,
    ...values,
  };
  // Seeded as data from before the limits may be: the overview's planner test has 20 active.
  return insertEndpoint(env.DB, row, null);
}

type DeliveryState = Partial<Omit<DeliveryRow, 'id' | 'event_id' | 'conversion_id' | 'endpoint_id'>>;

/**
 * Puts a delivery into a state the flow would reach only over time (retried, enqueued long
 * ago, ...); a statement, so several go in one batch.
 */
export function setDeliveryStatement(id: string, state: DeliveryState): D1PreparedStatement {
  const columns = Object.keys(state) as (keyof DeliveryState)[];
  if (columns.length === 0) throw new Error('setDeliveryStatement needs at least one column');
  return env.DB.prepare(`UPDATE deliveries SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`).bind(
    ...columns.map((c) => state[c] ?? null),
    id,
  );
}

export async function setDelivery(id: string, state: DeliveryState): Promise<void> {
  await batchWriting([setDeliveryStatement(id, state)], 1);
}
