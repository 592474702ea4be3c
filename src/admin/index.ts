// The admin API, /api/v1: every route behind the admin token. Each resource's routes are
// declared once in its module (ApiRoutes); the OpenAPI document reads the same declarations.
import { Hono } from 'hono';
import type { ApiEnv, ApiRoutes } from '../openapi/operation';
import { advertiserRoutes } from './advertisers';
import { apiKeyRoutes } from './api-keys';
import { applicationRoutes } from './applications';
import { auditRoutes } from './audit';
// Register the scope rules and audited changes of the older operations, and the audit writer.
import './access';
import './audit-trail';
import { requireAdmin } from './auth';
import { balanceRoutes } from './balances';
import { capRoutes } from './caps';
import { claimRoutes } from './claims';
import { clickRoutes } from './clicks';
import { conversionRoutes } from './conversions';
import { couponRoutes } from './coupons';
import { deliveryRoutes } from './deliveries';
import { documentRoutes } from './documents';
import { endpointRoutes } from './endpoints';
import { exchangeRateRoutes } from './exchange-rates';
import { integrationRoutes } from './integrations';
import { offerRoutes } from './offers';
import { parkedRoutes } from './parked';
import { payoutRoutes } from './payouts';
import { postbackLogRoutes } from './postbacks';
import { publisherRoutes } from './publishers';
import { reportRoutes } from './reports';
import { settingsRoutes } from './settings';
import { smartLinkRoutes } from './smart-links';
import { userRoutes } from './users';
import { validationRoutes } from './validations';

export const ADMIN_PREFIX = '/api/v1';

/** The admin resources, in the order the docs show them. */
export const adminRouters: readonly ApiRoutes[] = [
  advertiserRoutes,
  integrationRoutes,
  offerRoutes,
  payoutRoutes,
  exchangeRateRoutes,
  capRoutes,
  applicationRoutes,
  smartLinkRoutes,
  couponRoutes,
  publisherRoutes,
  endpointRoutes,
  deliveryRoutes,
  parkedRoutes,
  // Before conversions: its paths sit under /conversions/validations.
  validationRoutes,
  conversionRoutes,
  claimRoutes,
  clickRoutes,
  postbackLogRoutes,
  reportRoutes,
  balanceRoutes,
  documentRoutes.statement,
  documentRoutes.invoice,
  apiKeyRoutes,
  userRoutes,
  settingsRoutes,
  auditRoutes,
];

export const adminApi = new Hono<ApiEnv>();

adminApi.use('*', requireAdmin);
for (const router of adminRouters) adminApi.route(router.prefix.slice(ADMIN_PREFIX.length), router.app);
