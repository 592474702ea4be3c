// /api/v1/users: people who sign in to /portal (operator only). Creating one answers a
// single-use invitation link (7 days) where the person sets a password; a person is disabled,
// re-enabled, moved to another role, deleted, or sent a reset link (src/auth/lifecycle.ts).
import * as z from 'zod';
import { changeUser, createResetLink, deleteUser, isSelf } from '../auth/lifecycle';
import { inviteUser, presentUser } from '../auth/people';
import { ROLES, type Role } from '../auth/principal';
import { getAdvertiser } from '../db/advertisers';
import { liveKeysMintedBy } from '../db/api-keys';
import { getPublisher } from '../db/publishers';
import { getUser, getUserByEmail, listUsers, type UserRow } from '../db/users';
import { ApiError, badRequest, notFound } from '../lib/errors';
import { ApiRoutes, component, lazy } from '../openapi/operation';
import { pageOf, shapes } from '../openapi/shapes';
import { apiKeyShapes, presentApiKey } from './api-keys';
import { cursorAfterId, page, pageQuery } from './pagination';
import { filters, idParam, idPath } from './schemas';

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
      totp_enabled: z.boolean().describe('Whether the person signs in with a TOTP second factor'),
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
  const UserDetail = component(
    'UserDetail',
    User.extend({
      api_keys: z
        .array(apiKeyShapes().ApiKey)
        .describe(
          'Live API keys this person minted from the portal, newest first (at most 100): they keep working after the person is disabled or deleted until revoked (DELETE /api/v1/api-keys/{id}).',
        ),
    }),
  );
  const ResetLink = component(
    'ResetLink',
    User.extend({
      reset_url: z
        .url()
        .describe(
          'Single use; the person sets a new password there, which ends their sessions. Shown only in this answer.',
        ),
      reset_expires_at: timestamp,
    }),
  );
  return { User, Invitation, UserDetail, ResetLink, UserPage: pageOf('User', User) };
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

const userId = idPath('User');

/** A person with the live keys they minted: what an operator revokes when the person leaves. */
async function userDetail(db: D1Database, user: UserRow) {
  const keys = await liveKeysMintedBy(db, user.id, 100);
  return { ...presentUser(user), api_keys: keys.map(presentApiKey) };
}

async function existingUser(db: D1Database, id: number): Promise<UserRow> {
  const user = await getUser(db, id);
  if (!user) throw notFound('User');
  return user;
}

const notYourself = (what: string) =>
  new ApiError(409, 'cannot_change_self', `You cannot ${what} yourself; ask another operator`);

userRoutes.route(
  {
    method: 'get',
    path: '/{id}',
    operationId: 'getUser',
    summary: 'Read a person',
    description: 'With the live API keys the person minted.',
    auth: 'admin',
    access: {},
    params: { id: userId },
    responses: { 200: { description: 'The person', schema: () => userShapes().UserDetail } },
  },
  async (c, { params: { id } }) => ({
    status: 200,
    body: await userDetail(c.env.DB, await existingUser(c.env.DB, id)),
  }),
);

export const userChange = z.strictObject({
  status: z
    .enum(['active', 'disabled'])
    .optional()
    .describe(
      "disabled: the person's sessions end at once and sign-in is refused; active: allowed again (a person who never set a password stays invited)",
    ),
  role: z
    .enum(ROLES)
    .optional()
    .describe('A new role; publisher needs publisher_id and advertiser needs advertiser_id. Ends the sessions.'),
  publisher_id: idParam.optional().describe('The publisher a person of role publisher acts for'),
  advertiser_id: idParam.optional().describe('The advertiser a person of role advertiser acts for'),
});

/** The role and party ids after a change: the party field a role needs, and no other. */
async function scopeAfter(db: D1Database, user: UserRow, body: z.output<typeof userChange>) {
  const role = body.role ?? user.role;
  const party = (field: 'publisher_id' | 'advertiser_id', owner: Role): number | null => {
    const given = body[field];
    if (role !== owner) {
      if (given !== undefined)
        throw badRequest(`${field} is only for role ${owner}`, { [field]: `only for role ${owner}` });
      return null;
    }
    const id = given ?? (user.role === owner ? user[field] : null);
    if (id === null)
      throw badRequest(`${field} is required for role ${owner}`, { [field]: `required for role ${owner}` });
    return id;
  };
  const publisherId = party('publisher_id', 'publisher');
  const advertiserId = party('advertiser_id', 'advertiser');
  if (publisherId !== null && publisherId !== user.publisher_id && !(await getPublisher(db, publisherId))) {
    throw badRequest('Unknown publisher_id', { publisher_id: 'no such publisher' });
  }
  if (advertiserId !== null && advertiserId !== user.advertiser_id && !(await getAdvertiser(db, advertiserId))) {
    throw badRequest('Unknown advertiser_id', { advertiser_id: 'no such advertiser' });
  }
  return { role, publisher_id: publisherId, advertiser_id: advertiserId };
}

userRoutes.route(
  {
    method: 'patch',
    path: '/{id}',
    operationId: 'updateUser',
    summary: 'Disable, enable or change the role of a person',
    description:
      "Disabling ends the person's sessions and pending sign-ins at once (their next request is refused), spends their open invitation or reset links, and refuses their sign-in. A role or party change ends their sessions too. The answer lists the live API keys they minted: revoke those separately. An operator cannot disable or demote themselves (409 cannot_change_self).",
    auth: 'admin',
    access: {},
    params: { id: userId },
    body: { schema: userChange, required: true, example: { status: 'disabled' } },
    responses: {
      200: { description: 'The person as now', schema: () => userShapes().UserDetail },
      409: { description: 'cannot_change_self, or conflict (a concurrent change; read again and retry)' },
    },
  },
  async (c, { params: { id }, body }) => {
    const db = c.env.DB;
    const user = await existingUser(db, id);
    const scope = await scopeAfter(db, user, body);
    const status = body.status ?? (user.status === 'disabled' ? 'disabled' : 'active');
    const change = { ...scope, status } as const;
    const unchanged =
      scope.role === user.role &&
      scope.publisher_id === user.publisher_id &&
      scope.advertiser_id === user.advertiser_id &&
      (status === 'disabled') === (user.status === 'disabled');
    if (unchanged) return { status: 200, body: await userDetail(db, user) };
    const principal = c.get('principal');
    if (isSelf(principal, user)) throw notYourself(status === 'disabled' ? 'disable' : 'change the role of');
    const updated = await changeUser(db, principal, user, change, Date.now());
    if (!updated) throw new ApiError(409, 'conflict', 'The person changed meanwhile; read again and retry');
    return { status: 200, body: await userDetail(db, updated) };
  },
);

userRoutes.route(
  {
    method: 'delete',
    path: '/{id}',
    operationId: 'deleteUser',
    summary: 'Delete a person',
    description:
      'Removes the person with their sessions, links and recovery codes; the email can be invited again. The audit log keeps what they did under their label. The answer is the person as they were, with the live API keys they minted (not revoked by this).',
    auth: 'admin',
    access: {},
    params: { id: userId },
    responses: {
      200: { description: 'The deleted person', schema: () => userShapes().UserDetail },
      409: { description: 'cannot_change_self' },
    },
  },
  async (c, { params: { id } }) => {
    const db = c.env.DB;
    const user = await existingUser(db, id);
    const principal = c.get('principal');
    if (isSelf(principal, user)) throw notYourself('delete');
    const detail = await userDetail(db, user);
    if (!(await deleteUser(db, principal, user, Date.now()))) throw notFound('User');
    return { status: 200, body: detail };
  },
);

export const resetOptions = z.strictObject({
  remove_totp: z
    .boolean()
    .default(false)
    .describe(
      'Using the link also removes the person’s TOTP second factor (a lost phone); they enrol again if their role requires it',
    ),
});

userRoutes.route(
  {
    method: 'post',
    path: '/{id}/reset',
    operationId: 'resetUserPassword',
    summary: 'Make a password reset link',
    description:
      'Answers a single-use link, valid 24 hours, where the person sets a new password; using it ends all their sessions, and they then sign in. Their older open links stop working. A disabled person gets no link (409).',
    auth: 'admin',
    access: {},
    params: { id: userId },
    body: { schema: resetOptions, required: false, example: { remove_totp: false } },
    responses: {
      201: { description: 'The reset link', schema: () => userShapes().ResetLink },
      409: { description: 'user_disabled' },
    },
  },
  async (c, { params: { id }, body }) => {
    const db = c.env.DB;
    const user = await existingUser(db, id);
    if (user.status === 'disabled') {
      throw new ApiError(409, 'user_disabled', 'The person is disabled; enable them first');
    }
    const link = await createResetLink(db, c.get('principal'), user, body.remove_totp, Date.now());
    const url = new URL('/portal/reset', c.req.url);
    url.searchParams.set('token', link.token);
    return {
      status: 201,
      body: { ...presentUser(user), reset_url: url.toString(), reset_expires_at: link.expires_at },
    };
  },
);
