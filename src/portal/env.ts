// The portal's Hono environment: a signed-in page has the session, its user and principal.
import type { Principal } from '../auth/principal';
import type { SessionWithUser } from '../db/sessions';
import type { Viewer } from './layout';

export interface PortalVariables {
  session: SessionWithUser;
  principal: Principal;
  viewer: Viewer;
}

export type PortalEnv = { Bindings: Env; Variables: PortalVariables };
