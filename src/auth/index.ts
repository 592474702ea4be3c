// Partner access: who is calling (principal), how they prove it (admin token, API keys, portal
// sessions with passwords and CSRF tokens, throttled sign-in), and the audit trail of changes.

export { API_KEY_PATTERN, type KeyScope, keyActor, mintApiKey } from './api-keys';
export { type AuditChange, auditStatement, auditValues } from './audit';
export { formToken, formTokenMatches } from './form-token';
export { passwordProblem } from './password';
export {
  acceptInvitation,
  changePassword,
  INVITATION_TTL_MS,
  inviteUser,
  openInvitation,
  presentUser,
  reinviteUser,
  type SignInResult,
  signIn,
} from './people';
export { type Actor, type Principal, principalOf, ROLES, type Role, scopeLabel, tokenOperator } from './principal';
export { bearerPrincipal, resolvePrincipal } from './resolve';
export {
  csrfMatches,
  endSession,
  readSession,
  SESSION_COOKIE,
  sessionPrincipal,
  setSessionCookie,
} from './sessions';
