// Claims of missed sales (impact's action inquiries, Awin's missing-commission claims): a
// publisher files one for an order the tracking did not record; the advertiser or the operator
// accepts it, which records the conversion through the same path as a postback (dedup by order
// ID, the offer's rules as of the transaction date, caps, events, rollups and notifications,
// src/conversions/record.ts) with source "claim", or rejects it with a reason.
import type { Principal } from '../auth/principal';
import { clickIdKeys, verifyClickId } from '../click/click-id';
import { findClick } from '../clicks/reads';
import {
  afterCommit,
  buildConversion,
  type Committed,
  dedupeKey,
  insertConversion,
  orderKey,
  priceSale,
} from '../conversions';
import { loadRuleFacts } from '../conversions/facts';
import { decideNewConversion } from '../conversions/rules';
import { parseTiers } from '../conversions/tiers';
import {
  acceptClaimStatement,
  type ClaimRow,
  insertClaim,
  isClaimDecidedError,
  mayPromoteStatement,
  openClaimFor,
  rejectClaim,
} from '../db/claims';
import { findConversionsByKeys } from '../db/conversions';
import { getOffer, goalsWithRules } from '../db/offers';
import type { TermedGoal, TermedOffer } from '../db/payout-rules';
import { ApiError, badRequest, notFound } from '../lib/errors';
import { formatAmount, isCurrency, parseAmount } from '../lib/money';
import { nowIso } from '../lib/time';
import { operatorTimeZone } from '../lib/timezone';
import { capScopeAt } from '../terms/cap-guard';

export interface ClaimInput {
  offer_id: number;
  publisher_id: number;
  order_id: string;
  amount: string;
  currency: string;
  transaction_date: string;
  click_id?: string | undefined;
  note?: string | undefined;
}

/** How far back a sale may be claimed. */
const MAX_CLAIM_AGE_DAYS = 365;

/** The 409 of a claim for an order that has a conversion, naming it. */
function alreadyConverted(orderId: string, conversionId: string): ApiError {
  return new ApiError(409, 'already_converted', `Order ${orderId} already converted: conversion ${conversionId}`, {
    order_id: `already converted as ${conversionId}`,
  });
}

async function existingConversion(db: D1Database, offerId: number, orderId: string) {
  return (await findConversionsByKeys(db, offerId, [orderKey(orderId)]))[0] ?? null;
}

/** The transaction date as an instant: a day (its start, UTC) or a time, not in the future. */
function transactionInstant(text: string, now: number): string {
  const parsed = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(parsed))
    throw badRequest('Invalid transaction_date', { transaction_date: 'must be a date or time' });
  if (parsed > now) throw badRequest('transaction_date is in the future', { transaction_date: 'is in the future' });
  if (parsed < now - MAX_CLAIM_AGE_DAYS * 86_400_000) {
    throw badRequest('transaction_date is too old', {
      transaction_date: `is more than ${MAX_CLAIM_AGE_DAYS} days ago`,
    });
  }
  return new Date(parsed).toISOString();
}

/** Checks a signed click ID names this offer and publisher; its click time when it does. */
async function claimedClick(env: Env, clickId: string, offerId: number, publisherId: number) {
  const parts = await verifyClickId(await clickIdKeys(env), clickId);
  if (!parts) throw badRequest('Unknown click ID', { click_id: 'unknown or altered click ID' });
  if (parts.offerId !== offerId || parts.publisherId !== publisherId) {
    throw badRequest('The click ID is of another offer or publisher', { click_id: 'is of another offer or publisher' });
  }
  return parts;
}

export async function fileClaim(env: Env, input: ClaimInput): Promise<ClaimRow> {
  const db = env.DB;
  const now = Date.now();
  const [offer, allowed] = await Promise.all([
    getOffer(db, input.offer_id),
    mayPromoteStatement(db, input.offer_id, input.publisher_id).first<{ allowed: number }>(),
  ]);
  // An offer the publisher may not promote is one it cannot have sold for.
  if (!offer || !allowed?.allowed) throw notFound('Offer');
  if (!isCurrency(input.currency)) throw badRequest('Unknown currency', { currency: 'is not an ISO 4217 currency' });
  const amount = parseAmount(input.amount, input.currency);
  if (!amount.ok) throw badRequest(`Invalid amount: ${amount.reason}`, { amount: amount.reason });
  const transactionDate = transactionInstant(input.transaction_date, now);
  if (input.click_id !== undefined) await claimedClick(env, input.click_id, offer.id, input.publisher_id);
  const converted = await existingConversion(db, offer.id, input.order_id);
  if (converted) throw alreadyConverted(input.order_id, converted.id);
  const claim = await insertClaim(db, {
    offer_id: offer.id,
    advertiser_id: offer.advertiser_id,
    publisher_id: input.publisher_id,
    order_id: input.order_id,
    amount: amount.minor,
    currency: input.currency,
    transaction_date: transactionDate,
    click_id: input.click_id ?? null,
    note: input.note ?? null,
    created_at: new Date(now).toISOString(),
  });
  if (claim) return claim;
  const open = await openClaimFor(db, offer.id, input.order_id, input.publisher_id);
  throw new ApiError(409, 'claim_exists', `Order ${input.order_id} already has an open claim: claim ${open?.id}`, {
    order_id: `has an open claim (${open?.id})`,
  });
}

export interface Acceptance {
  /** The goal to record (its key); the offer's default goal when absent. */
  goal?: string | undefined;
  status?: 'approved' | 'pending' | undefined;
}

/**
 * Accepts an open claim: the conversion is priced under the offer's rules in force on the
 * transaction date (publisher payouts, tiers, the exchange rate of that day), checked by the
 * offer's rules as a postback's would be (time rule and fraud flags against the claimed click),
 * and written by insertConversion with the claim's acceptance in the same transaction.
 */
export async function acceptClaim(
  env: Env,
  ctx: { waitUntil(promise: Promise<unknown>): void },
  claim: ClaimRow,
  principal: Principal,
  options: Acceptance,
): Promise<{ claim: ClaimRow; conversionId: string; committed: Committed }> {
  const db = env.DB;
  if (claim.status !== 'open') throw claimDecided(claim);
  const converted = await existingConversion(db, claim.offer_id, claim.order_id);
  if (converted) throw alreadyConverted(claim.order_id, converted.id);
  const offer = (await getOffer(db, claim.offer_id)) as TermedOffer | null;
  if (!offer) throw notFound('Offer');
  const goals = (await goalsWithRules(db, [offer.id])).get(offer.id) ?? [];
  const entry = options.goal
    ? goals.find((g) => g.goal.key === options.goal)
    : (goals.find((g) => g.goal.is_default === 1) ?? goals[0]);
  if (!entry) {
    throw badRequest(`Unknown goal ${options.goal ?? ''}`, {
      goal: `must be one of ${goals.map((g) => g.goal.key).join(', ')}`,
    });
  }
  const at = Date.parse(claim.transaction_date);
  const facts = await loadRuleFacts(db, {
    offerId: offer.id,
    publisherId: claim.publisher_id,
    currency: claim.currency === offer.currency ? null : claim.currency,
    now: at,
    timeZone: operatorTimeZone(env),
  });
  const goal: TermedGoal = entry.goal;
  const sale = priceSale(
    { currency: claim.currency, amount: formatAmount(claim.amount, claim.currency) },
    {
      offerCurrency: offer.currency,
      goalKey: goal.key,
      rules: entry.rules,
      publisherId: claim.publisher_id,
      at: claim.transaction_date,
      tiers: parseTiers(goal.tiers),
      before: facts.tierCounts.get(goal.id) ?? 0,
      exchangeRate: facts.exchangeRate?.rate ?? null,
    },
  );
  const parts = claim.click_id ? await claimedClick(env, claim.click_id, offer.id, claim.publisher_id) : null;
  const click = parts && claim.click_id ? await findClick(env, claim.click_id) : null;
  const verdict = decideNewConversion({
    offer,
    status: options.status ?? 'approved',
    click: parts ? { clickedAt: parts.clickedAt, row: click } : null,
    now: at,
  });
  const now = nowIso();
  const row = buildConversion({
    offer,
    goal,
    publisherId: claim.publisher_id,
    click: parts && claim.click_id ? { id: claim.click_id, clickedAt: parts.clickedAt } : null,
    orderId: claim.order_id,
    dedupeKey: dedupeKey(goal, { orderId: claim.order_id }) as string,
    status: verdict.status,
    reason: verdict.reason,
    flags: verdict.flags,
    sale,
    voucher: null,
    description: null,
    subs: click ? [click.sub1, click.sub2, click.sub3, click.sub4, click.sub5, click.sub6] : [],
    creative: click ? { id: click.creative_id, groupId: click.creative_group_id } : undefined,
    // Recorded through the API on the advertiser's or operator's word: profile and source say claim.
    profile: 'claim',
    source: 'claim',
    now,
  });
  const actor = principal.role === 'advertiser' ? 'advertiser' : 'admin';
  let committed: Committed | null;
  try {
    committed = await insertConversion(
      db,
      row,
      { offerName: offer.name, goalKey: goal.key, click },
      actor,
      [acceptClaimStatement(db, claim.id, row.id, now)],
      capScopeAt(env, now),
    );
  } catch (error) {
    if (isClaimDecidedError(error)) throw claimDecided(claim);
    throw error;
  }
  if (!committed) {
    const other = await existingConversion(db, claim.offer_id, claim.order_id);
    throw alreadyConverted(claim.order_id, other?.id ?? 'unknown');
  }
  afterCommit(env, ctx, committed);
  return {
    claim: { ...claim, status: 'accepted', conversion_id: row.id, decided_at: now, updated_at: now },
    conversionId: row.id,
    committed,
  };
}

const claimDecided = (claim: ClaimRow) =>
  new ApiError(409, 'claim_decided', `Claim ${claim.id} is already ${claim.status}`, {
    status: `is ${claim.status}, not open`,
  });

export async function decline(db: D1Database, claim: ClaimRow, reason: string): Promise<ClaimRow> {
  if (claim.status !== 'open') throw claimDecided(claim);
  const rejected = await rejectClaim(db, claim.id, reason, nowIso());
  if (!rejected) throw claimDecided({ ...claim, status: 'accepted' });
  return rejected;
}
