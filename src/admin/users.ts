// /api/v1/users: people who sign in to /portal (operator only). Creating one answers a
// single-use invitation link (7 days) where the person sets a password.
import * as z from 'zod';
import { inviteUser, presentUser } from '../auth/people';
import { getAdvertiser } from '../db/advertisers';
import { getPublisher } from '../db/publishers';
import { getUserByEmail, listUsers } from '../db/users';
import { ApiError, badRequest } from '../lib/errors';
import { ApiRoutes, component, lazy } from '../openapi/operation';
import { pageOf, shapes } from '../openapi/shapes';
import { cursorAfterId, page, pageQuery } from './pagination';
import { filters, idParam } from './schemas';

const email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email())
  .describe('Where the person receives mail; signs in with it');

export const userCreate = z.discriminatedUnion('role', [
  z.strictObject({ email, role: z.literal('operator') }),
  z.strictObject({ email, role: z.literal('publisher'), publisher_id: idParam }),
  z.strictObject({ email, role: z.literal('advertiser'), advertiser_id: idParam }),
]);

export const userShapes = lazy(() => {
  const { rowId, timestamp } = shapes();
  const User = component(
    'User',
    z.strictObject({
      id: rowId,
      email: z.string(),
      role: z.enum(['operator', 'publisher', 'advertiser']),
      publisher_id: rowId.nullable(),
      advertiser_id: rowId.nullable(),
      status: z.enum(['invited', 'active', 'disabled']),
      created_at: timestamp,
      updated_at: timestamp,
    }),
  );
  const Invitation = component(
    'Invitation',
    User.extend({
      invite_url: z.url().describe('Single use; the person sets a password there. Shown only in this answer.'),
      invite_expires_at: timestamp,
    }),
  );
  return { User, Invitation, UserPage: pageOf('User', User) };
});

export const userRoutes = new ApiRoutes('/api/v1/users', {
  name: 'Users',
  description: 'People who sign in to the partner portal at /portal.',
});

userRoutes.route(
  {
    method: 'post',
    path: '',
    operationId: 'createUser',
    summary: 'Invite a person',
    description: 'Answers the invitation link (single use, expires in 7 days). An email that has an account is a 409.',
    auth: 'admin',
    body: {
      schema: userCreate,
      required: true,
      example: { email: 'pat@blog.example', role: 'publisher', publisher_id: 1 },
    },
    responses: {
      201: { description: 'Invited', schema: () => userShapes().Invitation },
      409: { description: 'email_taken' },
    },
  },
  async (c, { body }) => {
    const publisherId = body.role === 'publisher' ? body.publisher_id : null;
    const advertiserId = body.role === 'advertiser' ? body.advertiser_id : null;
    if (publisherId !== null && !(await getPublisher(c.env.DB, publisherId))) {
      throw badRequest('Unknown publisher_id', { publisher_id: 'no such publisher' });
    }
    if (advertiserId !== null && !(await getAdvertiser(c.env.DB, advertiserId))) {
      throw badRequest('Unknown advertiser_id', { advertiser_id: 'no such advertiser' });
    }
    if (await getUserByEmail(c.env.DB, body.email)) {
      throw new ApiError(409, 'email_taken', 'A person with this email exists', { email: 'already has an account' });
    }
    const invitation = await inviteUser(
      c.env.DB,
      c.get('principal'),
      { email: body.email, role: body.role, publisher_id: publisherId, advertiser_id: advertiserId },
      Date.now(),
    );
    const url = new URL('/portal/invite', c.req.url);
    url.searchParams.set('token', invitation.token);
    return {
      status: 201,
      body: { ...presentUser(invitation.user), invite_url: url.toString(), invite_expires_at: invitation.expires_at },
    };
  },
);

userRoutes.route(
  {
    method: 'get',
    path: '',
    operationId: 'listUsers',
    summary: 'List people',
    description: 'Oldest first.',
    auth: 'admin',
    query: pageQuery.extend({ publisher_id: filters.publisher_id(), advertiser_id: filters.advertiser_id() }),
    responses: { 200: { description: 'A page of people', schema: () => userShapes().UserPage } },
  },
  async (c, { query: { limit, cursor, ...filters } }) => {
    const rows = await listUsers(c.env.DB, filters, cursorAfterId(cursor), limit + 1);
    return { status: 200, body: page(rows, limit, (r) => r.id, presentUser) };
  },
);
