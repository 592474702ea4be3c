// Sign-in throttling, per account and per network address. A few failures are free; each
// further one opens a waiting window twice as long as the last, capped at MAX_WAIT_MS, during
// which that subject's sign-ins are refused unchecked. A guesser gets a handful of tries an
// hour; the owner is never locked out for good (at worst one window, then a try), and a
// success clears the account's count. Failures older than a day are forgotten.
import {
  clearSignInAttemptsStatement,
  getSignInAttempts,
  putSignInAttemptStatement,
  type SignInAttemptRow,
} from '../db/sessions';
import { ipPrefix } from '../lib/ip';
import { DAY_MS, iso } from '../lib/time';

export interface ThrottlePolicy {
  /** Failures allowed before the first window. */
  free: number;
  firstWaitMs: number;
}

/** Per account: a person mistyping a few times is not slowed. */
export const ACCOUNT_POLICY: ThrottlePolicy = { free: 5, firstWaitMs: 30_000 };
/** Per address: offices and mobile carriers share one, so it allows more before slowing. */
export const ADDRESS_POLICY: ThrottlePolicy = { free: 20, firstWaitMs: 30_000 };
export const MAX_WAIT_MS = 15 * 60_000;

export const accountSubject = (email: string) => `account:${email.trim().toLowerCase()}`;
export const addressSubject = (ip: string | null | undefined) => `address:${ipPrefix(ip) ?? 'unknown'}`;

/** The waiting window after `failures` failures, 0 while they are free. */
export function waitAfter(failures: number, policy: ThrottlePolicy): number {
  const over = failures - policy.free;
  if (over <= 0) return 0;
  return Math.min(policy.firstWaitMs * 2 ** Math.min(over - 1, 30), MAX_WAIT_MS);
}

/** The row after one more failure at `nowMs`; a count older than a day starts again. */
export function nextFailure(
  previous: SignInAttemptRow | undefined,
  subject: string,
  policy: ThrottlePolicy,
  nowMs: number,
): SignInAttemptRow {
  const stale = !previous || Date.parse(previous.last_failure_at) < nowMs - DAY_MS;
  const failures = stale ? 1 : previous.failures + 1;
  const wait = waitAfter(failures, policy);
  return { subject, failures, last_failure_at: iso(nowMs), blocked_until: wait > 0 ? iso(nowMs + wait) : null };
}

export interface SignInGate {
  /** When the subjects may try again; null when a sign-in may be checked now. */
  retryAt: string | null;
  rows: Map<string, SignInAttemptRow>;
  account: string;
  address: string;
}

/** Reads both subjects' state in one query and says whether a sign-in may be checked. */
export async function openGate(db: D1Database, email: string, ip: string | null, nowMs: number): Promise<SignInGate> {
  const account = accountSubject(email);
  const address = addressSubject(ip);
  const rows = new Map((await getSignInAttempts(db, [account, address])).map((row) => [row.subject, row]));
  const now = iso(nowMs);
  const blocks = [...rows.values()]
    .map((row) => row.blocked_until)
    .filter((until): until is string => until !== null && until > now);
  return { retryAt: blocks.length > 0 ? (blocks.sort().at(-1) as string) : null, rows, account, address };
}

/** Counts a failed sign-in against both subjects. */
export async function recordFailure(db: D1Database, gate: SignInGate, nowMs: number): Promise<void> {
  await db.batch([
    putSignInAttemptStatement(db, nextFailure(gate.rows.get(gate.account), gate.account, ACCOUNT_POLICY, nowMs)),
    putSignInAttemptStatement(db, nextFailure(gate.rows.get(gate.address), gate.address, ADDRESS_POLICY, nowMs)),
  ]);
}

/** A success forgets the account's failures (the address keeps its count: it may be a guesser's). */
export const clearFailuresStatement = (db: D1Database, gate: SignInGate): D1PreparedStatement =>
  clearSignInAttemptsStatement(db, gate.account);
