// How many active notification endpoints a publisher may have. Every conversion event is sent to
// each of them, so without a limit one conversion could fan out to any number of requests (an
// attack run fanned one conversion out to 44).
import { listEndpoints } from '../db/endpoints';
import { ApiError } from '../lib/errors';

export const MAX_ACTIVE_ENDPOINTS = 10;

/** Refuses (409, naming publisher_id) when the publisher already has the most active endpoints. */
export async function checkEndpointLimit(db: D1Database, publisherId: number): Promise<void> {
  // Disabled endpoints send nothing and do not count; a few hundred rows at most are read.
  const rows = await listEndpoints(db, { publisher_id: publisherId }, 0, 500);
  const active = rows.filter((row) => row.status === 'active').length;
  if (active < MAX_ACTIVE_ENDPOINTS) return;
  throw new ApiError(
    409,
    'endpoint_limit_reached',
    `Publisher ${publisherId} already has ${MAX_ACTIVE_ENDPOINTS} active endpoints, the most allowed`,
    { publisher_id: `has ${MAX_ACTIVE_ENDPOINTS} active endpoints already (disable one first)` },
  );
}
