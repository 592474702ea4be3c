// /portal: the partner portal for publishers, advertisers and operators. Server-rendered, no
// script; the dashboard's look. Pages for people without a session (sign-in, invitation) come
// first; everything else needs a live session (guard.ts), and each page is open to the roles
// that have it in their navigation (another role gets a 404, as if the page did not exist).
// Changes go through the /api/v1 operations as the signed-in person (api.ts).
import { sha256 } from '@noble/hashes/sha2.js';
import { type Context, Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { secureHeaders } from 'hono/secure-headers';
import { encodeBase64 } from 'hono/utils/encode';
import type { Role } from '../auth/principal';
import { html } from '../dashboard/html';
import { ApiError } from '../lib/errors';
import { errorFields, log } from '../lib/log';
import { accountPage, changePasswordAction } from './account';
import { integrationPage, postbacksPage, sendTestConversion } from './advertiser';
import { applicationsPage, decideApplicationAction } from './applications';
import { conversionsCsv, conversionsPage, decideConversion } from './conversions';
import type { PortalEnv } from './env';
import { requireSignedIn } from './guard';
import { homePage } from './home';
import { createKey, keysPage, revokeKey } from './keys';
import { notice, PORTAL_STYLESHEET, page, publicPage } from './layout';
import {
  createEndpoint,
  deliveriesCsv,
  deliveriesPage,
  endpointAction,
  endpointsPage,
  resendDelivery,
} from './notifications';
import { applyToOfferAction } from './offers';
import { auditPage } from './operator';
import { retryParkedAction } from './parked';
import { invitePerson, peoplePage, personAction, personPage, revokePersonKey, saveSecondFactorRule } from './people';
import { reportsCsv, reportsPage } from './reports';
import { resetRoutes } from './reset';
import { signInRoutes } from './sign-in';
import { confirmTotpAction, secondFactorRoutes, totpPage, turnOffTotpAction } from './totp';

let styleSource: string | undefined;
const stylesheetSource = () => {
  styleSource ??= `'sha256-${encodeBase64(sha256(new TextEncoder().encode(PORTAL_STYLESHEET)).buffer as ArrayBuffer)}'`;
  return styleSource;
};

/** Like the dashboard's headers, but forms may post back to this site. */
let headers: ReturnType<typeof secureHeaders> | undefined;
const pageHeaders = createMiddleware(async (c, next) => {
  headers ??= secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      styleSrc: [stylesheetSource()],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
    xFrameOptions: 'DENY',
    referrerPolicy: 'no-referrer',
    strictTransportSecurity: false,
  });
  await headers(c, async () => {
    await next();
    c.header('Cache-Control', 'no-store');
    c.header('X-Robots-Tag', 'noindex, nofollow');
  });
});

export const portalRoutes = new Hono<PortalEnv>();

portalRoutes.use('*', pageHeaders);
portalRoutes.route('/', signInRoutes);
portalRoutes.route('/', secondFactorRoutes);
portalRoutes.route('/', resetRoutes);
portalRoutes.use('*', requireSignedIn);

/** A page open to some roles only; to the others it does not exist. */
const only = (...roles: Role[]) =>
  createMiddleware<PortalEnv>(async (c, next) => {
    if (!roles.includes(c.get('principal').role)) return notFoundPage(c);
    await next();
  });

function notFoundPage(c: Context<PortalEnv>): Response {
  return c.html(
    page(c.get('viewer'), '', 'Not found', html`${notice('There is no such page in your portal.', 'error')}`),
    404,
  );
}

const publisherOnly = only('publisher');
const advertiserOnly = only('advertiser');
const operatorOnly = only('operator');

const advertiserId = (c: Context<PortalEnv>): number => {
  const principal = c.get('principal');
  if (principal.role !== 'advertiser') throw new Error('advertiser page without an advertiser');
  return principal.advertiserId;
};

const publisherId = (c: Context<PortalEnv>): number => {
  const principal = c.get('principal');
  if (principal.role !== 'publisher') throw new Error('publisher page without a publisher');
  return principal.publisherId;
};

portalRoutes.get('/', homePage);
portalRoutes.post('/offers/:id/apply', publisherOnly, (c) => applyToOfferAction(c, publisherId(c)));
portalRoutes.get('/applications', operatorOnly, (c) => applicationsPage(c));
portalRoutes.post('/applications/:id/approve', operatorOnly, (c) => decideApplicationAction(c, 'approve'));
portalRoutes.post('/applications/:id/reject', operatorOnly, (c) => decideApplicationAction(c, 'reject'));
portalRoutes.get('/reports', reportsPage);
portalRoutes.get('/reports.csv', reportsCsv);
portalRoutes.get('/conversions', (c) => conversionsPage(c));
portalRoutes.get('/conversions.csv', conversionsCsv);
portalRoutes.post('/conversions/:id/status', only('advertiser', 'operator'), decideConversion);

portalRoutes.get('/endpoints', publisherOnly, (c) => endpointsPage(c));
portalRoutes.post('/endpoints', publisherOnly, createEndpoint);
portalRoutes.post('/endpoints/:id/test', publisherOnly, (c) => endpointAction(c, 'test'));
portalRoutes.post('/endpoints/:id/rotate-secret', publisherOnly, (c) => endpointAction(c, 'rotate-secret'));
portalRoutes.get('/deliveries', only('publisher', 'operator'), (c) => deliveriesPage(c));
portalRoutes.get('/deliveries.csv', only('publisher', 'operator'), deliveriesCsv);
portalRoutes.post('/deliveries/:id/resend', only('publisher', 'operator'), resendDelivery);

portalRoutes.get('/integration', advertiserOnly, (c) => integrationPage(c, advertiserId(c)));
portalRoutes.post('/integration/test', advertiserOnly, (c) => sendTestConversion(c, advertiserId(c)));
portalRoutes.get('/postbacks', advertiserOnly, (c) => postbacksPage(c, advertiserId(c)));

portalRoutes.get('/keys', (c) => keysPage(c));
portalRoutes.post('/keys', createKey);
portalRoutes.post('/keys/:id/revoke', revokeKey);

portalRoutes.get('/people', operatorOnly, (c) => peoplePage(c));
portalRoutes.post('/people', operatorOnly, invitePerson);
portalRoutes.post('/people/second-factor', operatorOnly, saveSecondFactorRule);
portalRoutes.get('/people/:id{[0-9]+}', operatorOnly, (c) => personPage(c));
portalRoutes.post('/people/:id{[0-9]+}/keys/:keyId{[0-9]+}/revoke', operatorOnly, revokePersonKey);
portalRoutes.post('/people/:id{[0-9]+}/:action{status|role|reset|delete}', operatorOnly, personAction);
portalRoutes.get('/audit', operatorOnly, auditPage);
portalRoutes.post('/parked/:id/retry', operatorOnly, retryParkedAction);

portalRoutes.get('/account', (c) => accountPage(c));
portalRoutes.post('/account/password', changePasswordAction);
portalRoutes.get('/account/totp', (c) => totpPage(c));
portalRoutes.post('/account/totp', confirmTotpAction);
portalRoutes.post('/account/totp/off', turnOffTotpAction);

portalRoutes.notFound((c) => notFoundPage(c as Context<PortalEnv>));

// Bad input (a malformed date, an unknown status) is a 400 page naming the field; anything
// else is logged and shown as an apology, never a stack trace.
portalRoutes.onError((error, c) => {
  const ctx = c as Context<PortalEnv>;
  if (error instanceof ApiError && error.status < 500) {
    const fields = error.fields
      ? Object.entries(error.fields)
          .map(([f, p]) => `${f} ${p}`)
          .join('; ')
      : '';
    const text = fields ? `${error.message} (${fields}).` : error.message;
    const viewer = ctx.get('viewer');
    const content = html`${notice(text, 'error')}`;
    const body = viewer
      ? page(viewer, '', 'Cannot show this page', content)
      : publicPage('Cannot show this page', content);
    return ctx.html(body, error.status as 400);
  }
  log('error', 'portal.error', { path: c.req.path, ...errorFields(error) });
  return c.html('<!doctype html><title>Error</title><p>Something went wrong. Please try again.</p>', 500);
});
