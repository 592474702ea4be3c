// Scope rules of the admin operations, for publisher and advertiser keys and users (the
// operator sees everything). A declaration names its rule; ApiRoutes enforces it before the
// handler runs (src/openapi/operation.ts), so handlers stay unaware of who calls.
// Lists get their party filter forced; a path id must name the caller's own resource, else the
// answer is 404, exactly as for an id that does not exist.
import type { Principal } from '../auth/principal';
import { owns } from '../auth/scope';
import { clickIdKeys, verifyClickId } from '../click/click-id';
import { getAdvertiser } from '../db/advertisers';
import { getConversion } from '../db/conversions';
import { getEndpoint } from '../db/endpoints';
import { getOffer } from '../db/offers';
import { deliveryPublisherStatement } from '../db/portal';
import { getPublisher } from '../db/publishers';
import { ApiError } from '../lib/errors';
import { type Access, type AuditSpec, type RawInput, type ScopeRule, setPolicies } from '../openapi/operation';

type Party = { publisher_id?: number | null; advertiser_id?: number | null };

const partyId = (principal: Principal): number | null =>
  principal.role === 'publisher'
    ? principal.publisherId
    : principal.role === 'advertiser'
      ? principal.advertiserId
      : null;

/**
 * Forces a query filter or body field to the caller's own id (it may be omitted: it is implied);
 * naming another party's id is a 404.
 */
export function ownFilter(where: 'query' | 'body', field: string): ScopeRule {
  const rule: ScopeRule = (principal, input) => {
    const target = input[where];
    const own = partyId(principal);
    if (!target || own === null) return false;
    if (target[field] !== undefined && target[field] !== own) return false;
    target[field] = own;
    return true;
  };
  if (where === 'body') rule.impliedBodyField = field;
  return rule;
}

/** The path names a resource whose party is the caller's. */
export const ownedResource =
  (load: (env: Env, params: RawInput['params']) => Promise<Party | null>): ScopeRule =>
  async (principal, input, env) => {
    const row = await load(env, input.params);
    return row !== null && owns(principal, row);
  };

export const endpointParty = (env: Env, params: RawInput['params']) => getEndpoint(env.DB, params.id as number);

export const conversionParty = (env: Env, params: RawInput['params']) => getConversion(env.DB, params.id as string);

export const deliveryParty = (env: Env, params: RawInput['params']) =>
  deliveryPublisherStatement(env.DB, params.id as string).first<{ publisher_id: number }>();

/** A click's publisher and offer come from its signed ID; the advertiser is the offer's. */
export async function clickParty(env: Env, params: RawInput['params']): Promise<Party | null> {
  const parts = await verifyClickId(await clickIdKeys(env), params.clickId as string);
  if (!parts) return null;
  const offer = await getOffer(env.DB, parts.offerId);
  return { publisher_id: parts.publisherId, advertiser_id: offer?.advertiser_id ?? null };
}

/** An advertiser's own offer. */
export const ownOffer = ownedResource(async (env, params) => getOffer(env.DB, params.id as number));

/**
 * A publisher reads offers through its own view (publisher_id forced): only those it may promote
 * (active; public, or private and approved), with its payout and no revenue (src/admin/publisher-offers.ts).
 */
const publisherView = ownFilter('query', 'publisher_id');

/** An advertiser's own offer, never through a publisher's view (another publisher's own rate). */
const ownOfferNoPublisherView: ScopeRule = async (principal, input, env) =>
  input.query?.publisher_id === undefined && (await ownOffer(principal, input, env));

/**
 * An advertiser's report: advertiser_id is forced (the rows of all its offers); an offer filter,
 * if given, must name one of its offers.
 */
export const ownReportRows: ScopeRule = async (principal, input, env) => {
  if (!(await ownFilter('query', 'advertiser_id')(principal, input, env))) return false;
  const offerId = input.query?.offer_id;
  if (offerId === undefined) return true;
  const offer = await getOffer(env.DB, offerId as number);
  return offer !== null && owns(principal, offer);
};

/**
 * A publisher's deliveries: publisher_id is forced (all its endpoints' deliveries); an
 * endpoint filter, if given, must name one of its endpoints.
 */
const ownDeliveries: ScopeRule = async (principal, input, env) => {
  if (!(await ownFilter('query', 'publisher_id')(principal, input, env))) return false;
  const endpointId = input.query?.endpoint_id;
  if (endpointId === undefined) return true;
  const endpoint = await getEndpoint(env.DB, endpointId as number);
  return endpoint !== null && owns(principal, endpoint);
};

/** An endpoint change must keep it the publisher's own (publisher_id, if sent, is its own). */
const ownEndpointChange: ScopeRule = async (principal, input, env) =>
  (await ownedResource(endpointParty)(principal, input, env)) &&
  (input.body === undefined ||
    ownFilter('body', 'publisher_id')(principal, input, env) ||
    input.body.publisher_id === undefined);

const conversion = ownedResource(conversionParty);
const click = ownedResource(clickParty);

/**
 * Who besides the operator may call each admin operation, and how the scope applies. An
 * operation missing here (and without `access` in its declaration) is operator-only: others
 * get 403. The table-driven scope test (test/api/scope-*.test.ts) walks every operation of the
 * OpenAPI document against this, so a new route must take a position.
 */
export const ACCESS: Record<string, Access> = {
  // Advertisers, publishers, offers' terms and people are the operator's.
  createAdvertiser: {},
  listAdvertisers: {},
  getAdvertiser: {},
  updateAdvertiser: {},
  rotateAdvertiserPostbackKey: {},
  createPublisher: {},
  listPublishers: {},
  getPublisher: {},
  updatePublisher: {},
  createOffer: {},
  updateOffer: {},
  listOffers: { advertiser: ownFilter('query', 'advertiser_id'), publisher: publisherView },
  getOffer: { advertiser: ownOfferNoPublisherView, publisher: publisherView },
  // A publisher's notification endpoints and their deliveries.
  createEndpoint: { publisher: ownFilter('body', 'publisher_id') },
  listEndpoints: { publisher: ownFilter('query', 'publisher_id') },
  getEndpoint: { publisher: ownedResource(endpointParty) },
  updateEndpoint: { publisher: ownEndpointChange },
  rotateEndpointSecret: { publisher: ownedResource(endpointParty) },
  testEndpoint: { publisher: ownedResource(endpointParty) },
  listDeliveries: { publisher: ownDeliveries },
  getDelivery: { publisher: ownedResource(deliveryParty) },
  resendDelivery: { publisher: ownedResource(deliveryParty) },
  // Conversions: both parties read their own; the advertiser decides on its own.
  listConversions: { publisher: ownFilter('query', 'publisher_id'), advertiser: ownFilter('query', 'advertiser_id') },
  getConversion: { publisher: conversion, advertiser: conversion },
  changeConversionStatus: { advertiser: conversion },
  listClicks: { publisher: ownFilter('query', 'publisher_id') },
  getClick: { publisher: click, advertiser: click },
  listPostbackLog: { advertiser: ownFilter('query', 'advertiser_id') },
  getReport: { publisher: ownFilter('query', 'publisher_id'), advertiser: ownReportRows },
  // Program terms (issue 7): a publisher applies for itself; an advertiser adjusts its own
  // conversions; caps, payouts, smart links, rates and decisions are the operator's.
  applyToOffer: { publisher: ownFilter('body', 'publisher_id') },
  adjustConversion: { advertiser: conversion },
  listApplications: {},
  approveApplication: {},
  rejectApplication: {},
  createCap: {},
  listCaps: {},
  deleteCap: {},
  putPublisherPayout: {},
  deletePublisherPayout: {},
  putExchangeRate: {},
  getExchangeRates: {},
  createSmartLink: {},
  listSmartLinks: {},
  getSmartLink: {},
  updateSmartLink: {},
  deleteSmartLink: {},
};

const read =
  <T>(load: (db: D1Database, id: number) => Promise<T | null>) =>
  (env: Env, params: RawInput['params']) =>
    load(env.DB, params.id as number);

/** Changes recorded in the audit log, with how to read the resource before the change. */
export const AUDITED: Record<string, AuditSpec> = {
  createAdvertiser: { resource: 'advertiser' },
  updateAdvertiser: { resource: 'advertiser', before: read(getAdvertiser) },
  rotateAdvertiserPostbackKey: { resource: 'advertiser', before: read(getAdvertiser) },
  createPublisher: { resource: 'publisher' },
  updatePublisher: { resource: 'publisher', before: read(getPublisher) },
  createOffer: { resource: 'offer' },
  updateOffer: { resource: 'offer', before: read(getOffer) },
  createEndpoint: { resource: 'endpoint' },
  updateEndpoint: { resource: 'endpoint', before: endpointParty },
  rotateEndpointSecret: { resource: 'endpoint', before: endpointParty },
  resendDelivery: { resource: 'delivery' },
  changeConversionStatus: { resource: 'conversion', before: conversionParty },
  adjustConversion: { resource: 'conversion', before: conversionParty },
  applyToOffer: { resource: 'application' },
  approveApplication: { resource: 'application' },
  rejectApplication: { resource: 'application' },
  createCap: { resource: 'cap' },
  deleteCap: { resource: 'cap' },
  putPublisherPayout: { resource: 'payout' },
  deletePublisherPayout: { resource: 'payout' },
  putExchangeRate: { resource: 'exchange_rate' },
  createSmartLink: { resource: 'smart_link' },
  updateSmartLink: { resource: 'smart_link' },
  deleteSmartLink: { resource: 'smart_link' },
};

setPolicies(ACCESS, AUDITED);

/** For rules that refuse a role outright inside an allowed operation (e.g. minting another role's key). */
export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);
