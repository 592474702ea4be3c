// /api/v1/offers: an offer with its goals and payout rules. Money in requests is decimal text
// in the offer's currency; it is stored as integer minor units and percentages as basis points.
import { Hono } from 'hono';
import * as z from 'zod';
import { publishOfferConfigs } from '../click/config';
import { landingMacroInAuthority, unknownLandingMacros } from '../click/landing';
import { getAdvertiser } from '../db/advertisers';
import { type GoalRow, getOffer, goalsWithRules, listOffers, type OfferRow, type PayoutRuleRow } from '../db/offers';
import { ApiError, badRequest, type FieldErrors, notFound } from '../lib/errors';
import { formatAmount, parseAmount, percentToBasisPoints } from '../lib/money';
import { nowIso } from '../lib/time';
import { jsonBody, parseWith } from '../lib/validate';
import { cursorAfterId, page, pageQuery } from './pagination';
import { currency, decimal, hostname, httpUrl, httpUrlTemplate, idParam, name, pathId, percent } from './schemas';

const ruleFields = {
  revenue: decimal.optional(),
  payout: decimal.optional(),
  revenue_percent: percent.optional(),
  payout_percent: percent.optional(),
};

const goalKey = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'must be 1-32 of a-z, 0-9, _ and -');

export const commissionGroupInput = z.object({
  key: z.string().trim().min(1).max(64),
  ...ruleFields,
});

export const goalInput = z.object({
  key: goalKey,
  name: z.string().trim().min(1).max(100).optional(),
  ...ruleFields,
  commission_groups: z.array(commissionGroupInput).max(50).optional(),
  allow_repeats: z.boolean().optional(),
  default: z.boolean().optional(),
  default_status: z.enum(['pending', 'approved']).optional(),
});

const offerFields = {
  name,
  landing_url: httpUrlTemplate,
  click_param: z.string().regex(/^[A-Za-z0-9_.~-]{1,64}$/, 'must be 1-64 URL-safe characters'),
  deep_link_hosts: z.array(hostname).max(100),
  attribution_window_days: z.number().int().min(1).max(365),
  allow_publisher_postback: z.boolean(),
  fallback_url: httpUrl.nullable(),
  status: z.enum(['active', 'paused', 'archived']),
};

export const offerCreate = z.object({
  advertiser_id: z.number().int().positive(),
  currency,
  goals: z.array(goalInput).min(1).max(50),
  ...offerFields,
  click_param: offerFields.click_param.default('click_id'),
  deep_link_hosts: offerFields.deep_link_hosts.default([]),
  attribution_window_days: offerFields.attribution_window_days.default(30),
  allow_publisher_postback: offerFields.allow_publisher_postback.default(false),
  fallback_url: offerFields.fallback_url.default(null),
  status: offerFields.status.default('active'),
});

/** Goals in an update are matched by key: existing ones are changed, new keys are added. */
export const offerUpdate = z
  .object({
    ...Object.fromEntries(Object.entries(offerFields).map(([k, v]) => [k, v.optional()])),
    goals: z.array(goalInput).min(1).max(50).optional(),
  } as { [K in keyof typeof offerFields]: z.ZodOptional<(typeof offerFields)[K]> } & {
    goals: z.ZodOptional<z.ZodArray<typeof goalInput>>;
  })
  .strict();

type GoalInput = z.output<typeof goalInput>;
type RuleInput = Partial<Record<'revenue' | 'payout', string>> &
  Partial<Record<'revenue_percent' | 'payout_percent', number>>;

interface RuleValues {
  commission_group: string | null;
  revenue_fixed: number;
  revenue_percent_bp: number;
  payout_fixed: number;
  payout_percent_bp: number;
}

/** Converts a rule's decimals and percentages, collecting errors under the rule's path. */
function ruleValues(
  input: RuleInput,
  offerCurrency: string,
  path: string,
  errors: FieldErrors,
  group: string | null,
): RuleValues {
  const money = (field: 'revenue' | 'payout') => {
    const text = input[field];
    if (text === undefined) return 0;
    const parsed = parseAmount(text, offerCurrency);
    if (!parsed.ok) errors[`${path}.${field}`] = parsed.reason;
    return parsed.ok ? parsed.minor : 0;
  };
  const bp = (field: 'revenue_percent' | 'payout_percent') => percentToBasisPoints(input[field] ?? 0) ?? 0;
  return {
    commission_group: group,
    revenue_fixed: money('revenue'),
    revenue_percent_bp: bp('revenue_percent'),
    payout_fixed: money('payout'),
    payout_percent_bp: bp('payout_percent'),
  };
}

interface GoalPlan {
  input: GoalInput;
  rules: RuleValues[];
}

function planGoals(goals: GoalInput[], offerCurrency: string): GoalPlan[] {
  const errors: FieldErrors = {};
  const seen = new Set<string>();
  const plans = goals.map((goal, i) => {
    if (seen.has(goal.key)) errors[`goals.${i}.key`] = `duplicate goal key ${goal.key}`;
    seen.add(goal.key);
    const rules = [ruleValues(goal, offerCurrency, `goals.${i}`, errors, null)];
    const groups = new Set<string>();
    goal.commission_groups?.forEach((group, k) => {
      if (groups.has(group.key)) errors[`goals.${i}.commission_groups.${k}.key`] = `duplicate group ${group.key}`;
      groups.add(group.key);
      rules.push(ruleValues(group, offerCurrency, `goals.${i}.commission_groups.${k}`, errors, group.key));
    });
    return { input: goal, rules };
  });
  if (goals.filter((g) => g.default).length > 1) errors.goals = 'at most one goal can be the default';
  if (Object.keys(errors).length > 0) throw badRequest(`Invalid ${Object.keys(errors).join(', ')}`, errors);
  return plans;
}

function checkLandingUrl(landingUrl: string | undefined) {
  if (landingUrl === undefined) return;
  if (landingMacroInAuthority(landingUrl)) {
    throw badRequest('Macros in landing_url must be in its path or query', {
      landing_url: 'macros are allowed in the path and query only, not in the scheme or host (no open redirect)',
    });
  }
  const unknown = unknownLandingMacros(landingUrl);
  if (unknown.length > 0) {
    throw badRequest(`Unknown macros in landing_url: ${unknown.join(', ')}`, {
      landing_url: `unknown macros: ${unknown.map((m) => `{${m}}`).join(', ')}`,
    });
  }
}

/** Statements that upsert goals (by key) and replace their base payout rules, for one offer. */
function goalStatements(db: D1Database, offerIdSql: string, offerIdBinds: unknown[], plans: GoalPlan[], now: string) {
  const statements: D1PreparedStatement[] = [];
  const goalIdSql = `(SELECT id FROM goals WHERE offer_id = ${offerIdSql} AND key = ?)`;
  for (const { input, rules } of plans) {
    if (input.default) {
      statements.push(
        db.prepare(`UPDATE goals SET is_default = 0 WHERE offer_id = ${offerIdSql}`).bind(...offerIdBinds),
      );
    }
    statements.push(
      db
        .prepare(
          `INSERT INTO goals (offer_id, key, name, is_default, allow_repeats, default_status, created_at)
           VALUES (${offerIdSql}, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (offer_id, key) DO UPDATE SET
             name = COALESCE(?, name),
             is_default = MAX(is_default, excluded.is_default),
             allow_repeats = COALESCE(?, allow_repeats),
             default_status = COALESCE(?, default_status)`,
        )
        .bind(
          ...offerIdBinds,
          input.key,
          input.name ?? input.key,
          input.default ? 1 : 0,
          input.allow_repeats ? 1 : 0,
          input.default_status ?? 'pending',
          now,
          input.name ?? null,
          input.allow_repeats === undefined ? null : input.allow_repeats ? 1 : 0,
          input.default_status ?? null,
        ),
      db
        .prepare(`DELETE FROM payout_rules WHERE publisher_id IS NULL AND goal_id = ${goalIdSql}`)
        .bind(...offerIdBinds, input.key),
    );
    for (const rule of rules) {
      statements.push(
        db
          .prepare(
            `INSERT INTO payout_rules (goal_id, publisher_id, commission_group, revenue_fixed, revenue_percent_bp,
               payout_fixed, payout_percent_bp, created_at)
             VALUES (${goalIdSql}, NULL, ?, ?, ?, ?, ?, ?)`,
          )
          .bind(
            ...offerIdBinds,
            input.key,
            rule.commission_group,
            rule.revenue_fixed,
            rule.revenue_percent_bp,
            rule.payout_fixed,
            rule.payout_percent_bp,
            now,
          ),
      );
    }
  }
  // With no goal marked default, the first goal created is the default.
  statements.push(
    db
      .prepare(
        `UPDATE goals SET is_default = 1 WHERE offer_id = ${offerIdSql}
           AND NOT EXISTS (SELECT 1 FROM goals WHERE offer_id = ${offerIdSql} AND is_default = 1)
           AND id = (SELECT MIN(id) FROM goals WHERE offer_id = ${offerIdSql})`,
      )
      .bind(...offerIdBinds, ...offerIdBinds, ...offerIdBinds),
  );
  return statements;
}

function presentRule(rule: PayoutRuleRow | undefined, offerCurrency: string) {
  return {
    revenue: formatAmount(rule?.revenue_fixed ?? 0, offerCurrency),
    payout: formatAmount(rule?.payout_fixed ?? 0, offerCurrency),
    revenue_percent: (rule?.revenue_percent_bp ?? 0) / 100,
    payout_percent: (rule?.payout_percent_bp ?? 0) / 100,
  };
}

export function presentOffer(row: OfferRow, goals: { goal: GoalRow; rules: PayoutRuleRow[] }[], origin: string) {
  return {
    id: row.id,
    advertiser_id: row.advertiser_id,
    name: row.name,
    status: row.status,
    landing_url: row.landing_url,
    click_param: row.click_param,
    deep_link_hosts: JSON.parse(row.deep_link_hosts) as string[],
    fallback_url: row.fallback_url,
    currency: row.currency,
    attribution_window_days: row.attribution_window_days,
    allow_publisher_postback: row.allow_publisher_postback === 1,
    tracking_link: `${origin}/c/${row.id}/{publisher_id}`,
    goals: goals.map(({ goal, rules }) => {
      const base = rules.find((r) => r.publisher_id === null && r.commission_group === null);
      return {
        id: goal.id,
        key: goal.key,
        name: goal.name,
        default: goal.is_default === 1,
        allow_repeats: goal.allow_repeats === 1,
        default_status: goal.default_status,
        ...presentRule(base, row.currency),
        commission_groups: rules
          .filter((r) => r.publisher_id === null && r.commission_group !== null)
          .map((r) => ({ key: r.commission_group, ...presentRule(r, row.currency) })),
      };
    }),
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

async function loadOffer(db: D1Database, id: number, origin: string) {
  const row = await getOffer(db, id);
  if (!row) throw notFound('Offer');
  const goals = await goalsWithRules(db, [id]);
  return presentOffer(row, goals.get(id) ?? [], origin);
}

export const offerRoutes = new Hono<{ Bindings: Env }>();

offerRoutes.post('/', async (c) => {
  const input = parseWith(offerCreate, await jsonBody(c));
  checkLandingUrl(input.landing_url);
  const plans = planGoals(input.goals, input.currency);
  if (!(await getAdvertiser(c.env.DB, input.advertiser_id))) {
    throw new ApiError(400, 'invalid_request', 'Unknown advertiser_id', { advertiser_id: 'no such advertiser' });
  }
  const now = nowIso();
  // One transaction: the offer row, then its goals and rules addressed through the new id.
  const [inserted] = await c.env.DB.batch([
    c.env.DB.prepare(
      `INSERT INTO offers (advertiser_id, name, status, landing_url, click_param, deep_link_hosts, fallback_url,
         currency, attribution_window_days, allow_publisher_postback, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    ).bind(
      input.advertiser_id,
      input.name,
      input.status,
      input.landing_url,
      input.click_param,
      JSON.stringify(input.deep_link_hosts),
      input.fallback_url,
      input.currency,
      input.attribution_window_days,
      input.allow_publisher_postback ? 1 : 0,
      now,
      now,
    ),
    ...goalStatements(c.env.DB, '(SELECT MAX(id) FROM offers)', [], plans, now),
  ]);
  const id = (inserted?.results[0] as { id: number } | undefined)?.id;
  if (!id) throw new Error('offer insert returned no id');
  await publishOfferConfigs(c.env, [id]);
  return c.json(await loadOffer(c.env.DB, id, new URL(c.req.url).origin), 201);
});

offerRoutes.get('/', async (c) => {
  const query = parseWith(pageQuery.extend({ advertiser_id: idParam.optional() }), c.req.query());
  const after = cursorAfterId(query.cursor);
  const rows = await listOffers(c.env.DB, after, query.limit + 1, query.advertiser_id);
  const goals = await goalsWithRules(
    c.env.DB,
    rows.slice(0, query.limit).map((r) => r.id),
  );
  const origin = new URL(c.req.url).origin;
  return c.json(
    page(
      rows,
      query.limit,
      (r) => r.id,
      (r) => presentOffer(r, goals.get(r.id) ?? [], origin),
    ),
  );
});

offerRoutes.get('/:id', async (c) => {
  return c.json(await loadOffer(c.env.DB, pathId(c.req.param('id'), 'Offer'), new URL(c.req.url).origin));
});

offerRoutes.patch('/:id', async (c) => {
  const id = pathId(c.req.param('id'), 'Offer');
  const input = parseWith(offerUpdate, await jsonBody(c));
  checkLandingUrl(input.landing_url);
  const existing = await getOffer(c.env.DB, id);
  if (!existing) throw notFound('Offer');
  const plans = input.goals ? planGoals(input.goals, existing.currency) : [];
  const columns: Record<string, unknown> = {
    name: input.name,
    status: input.status,
    landing_url: input.landing_url,
    click_param: input.click_param,
    deep_link_hosts: input.deep_link_hosts && JSON.stringify(input.deep_link_hosts),
    fallback_url: input.fallback_url,
    attribution_window_days: input.attribution_window_days,
    allow_publisher_postback:
      input.allow_publisher_postback === undefined ? undefined : input.allow_publisher_postback ? 1 : 0,
  };
  const entries = Object.entries(columns).filter(([, v]) => v !== undefined);
  const now = nowIso();
  await c.env.DB.batch([
    c.env.DB.prepare(
      `UPDATE offers SET ${[...entries.map(([k]) => `${k} = ?`), 'updated_at = ?'].join(', ')} WHERE id = ?`,
    ).bind(...entries.map(([, v]) => v), now, id),
    ...goalStatements(c.env.DB, '?', [id], plans, now),
  ]);
  await publishOfferConfigs(c.env, [id]);
  return c.json(await loadOffer(c.env.DB, id, new URL(c.req.url).origin));
});
