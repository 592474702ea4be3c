// A principal attached to an in-process Request (the portal calling /api/v1 as the signed-in
// person). A WeakMap keyed by the Request object: nothing a client sends can set it, and it
// goes away with the request.
import type { Principal } from './principal';

const principals = new WeakMap<Request, Principal>();

export function asPrincipal(request: Request, principal: Principal): Request {
  principals.set(request, principal);
  return request;
}

export const internalPrincipal = (request: Request): Principal | undefined => principals.get(request);
