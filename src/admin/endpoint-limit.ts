// How many notification endpoints a publisher may have. Every conversion event is sent to each
// active one, so without a limit one conversion could fan out to any number of requests (an
// attack run fanned one conversion out to 44); disabled ones send nothing but are rows a
// publisher key could otherwise add without end. The limits are enforced by the writes
// themselves (src/db/endpoints.ts): a check before the insert let 30 concurrent creates make 19
// endpoints against a limit of 10. A refused write is answered here, naming the limit.
import {
  countEndpoints,
  ENDPOINT_LIMITS,
  type EndpointRow,
  type EndpointValues,
  insertEndpointStatement,
  updateEndpoint,
} from '../db/endpoints';
import { ApiError, notFound } from '../lib/errors';

export const MAX_ACTIVE_ENDPOINTS = ENDPOINT_LIMITS.active;
/** Active and disabled together: a disabled endpoint can be changed and enabled again instead. */
export const MAX_ENDPOINTS = ENDPOINT_LIMITS.total;

const limitReached = (message: string, field: string) =>
  new ApiError(409, 'endpoint_limit_reached', message, { publisher_id: field });

/** The new endpoint, or 409 (naming publisher_id and the limit) when the publisher is at a limit. */
export async function insertEndpointWithinLimits(db: D1Database, values: EndpointValues): Promise<EndpointRow> {
  const row = await insertEndpointStatement(db, values).first<EndpointRow>();
  if (row) return row;
  const counts = await countEndpoints(db, values.publisher_id);
  if (counts.total >= MAX_ENDPOINTS) {
    throw limitReached(
      `Publisher ${values.publisher_id} already has ${MAX_ENDPOINTS} endpoints, the most allowed (active and disabled)`,
      `has ${MAX_ENDPOINTS} endpoints already (change a disabled one instead)`,
    );
  }
  throw activeLimitReached(values.publisher_id);
}

const activeLimitReached = (publisherId: number) =>
  limitReached(
    `Publisher ${publisherId} already has ${MAX_ACTIVE_ENDPOINTS} active endpoints, the most allowed`,
    `has ${MAX_ACTIVE_ENDPOINTS} active endpoints already (disable one first)`,
  );

/** The changed endpoint; 404 when there is none, 409 when activating it would pass the active limit. */
export async function updateEndpointWithinLimits(
  db: D1Database,
  current: EndpointRow,
  changes: Partial<EndpointValues>,
  updatedAt: string,
): Promise<EndpointRow> {
  const row = await updateEndpoint(db, current.id, changes, updatedAt);
  if (row) return row;
  if (changes.status === 'active' && current.status !== 'active') throw activeLimitReached(current.publisher_id);
  throw notFound('Endpoint');
}
