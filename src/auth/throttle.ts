// Password throttling (sign-in and password change), per account and per network address. Each
// attempt is counted BEFORE its password is checked, in one conditional write for both subjects
// (db/sessions.ts): an attempt that finds either inside a window is refused unchecked and
// counted nowhere. A few attempts are free; each further one opens a window twice as long as
// the last, capped at MAX_WAIT_MS. Counting first is what bounds concurrent guesses: 60 sent at
// once are counted one after another, and only those counted before a window opened reach the
// password hash. A guesser gets a handful of tries an hour; the owner is never locked out for
// good (at worst one window, then a try). A success forgets the account's count and takes its
// own attempt back from the address's; counts older than a day are forgotten.
import {
  clearSignInAttemptsStatement,
  countSignInAttempt,
  getSignInAttempts,
  type SignInAttemptRow,
  uncountSignInAttemptStatement,
} from '../db/sessions';
import { ipPrefix } from '../lib/ip';
import { DAY_MS, iso } from '../lib/time';

export interface ThrottlePolicy {
  /** Attempts allowed before the first window. */
  free: number;
  firstWaitMs: number;
}

/** Per account: a person mistyping a few times is not slowed. */
export const ACCOUNT_POLICY: ThrottlePolicy = { free: 5, firstWaitMs: 30_000 };
/** Per address: offices and mobile carriers share one, so it allows more before slowing. */
export const ADDRESS_POLICY: ThrottlePolicy = { free: 20, firstWaitMs: 30_000 };
export const MAX_WAIT_MS = 15 * 60_000;

// Cut at 255 characters: no account's address is longer than 254, so a longer one (any text a
// form can carry) is one subject, never stored at its full length.
export const accountSubject = (email: string) => `account:${email.trim().toLowerCase().slice(0, 255)}`;
export const addressSubject = (ip: string | null | undefined) => `address:${ipPrefix(ip) ?? 'unknown'}`;

/** The window the `attempts`-th counted attempt opens, 0 while they are free. */
export function waitAfter(attempts: number, policy: ThrottlePolicy): number {
  const over = attempts - policy.free;
  if (over <= 0) return 0;
  return Math.min(policy.firstWaitMs * 2 ** Math.min(over - 1, 30), MAX_WAIT_MS);
}

/**
 * The end of the window each count opens when counted at `nowMs` (index = count), up to the
 * first capped one, which holds for every count beyond: the table the counting write reads.
 */
export function windowsAt(policy: ThrottlePolicy, nowMs: number): (string | null)[] {
  const windows: (string | null)[] = [];
  for (let attempts = 0; ; attempts++) {
    const wait = waitAfter(attempts, policy);
    windows.push(wait > 0 ? iso(nowMs + wait) : null);
    if (wait >= MAX_WAIT_MS) return windows;
  }
}

export interface SignInGate {
  /** When the subjects may try again; null when this attempt was counted and may be checked. */
  retryAt: string | null;
  account: string;
  address: string;
  /** The window this attempt opened on the address (taken back with the attempt after a success). */
  addressWindow: string | null;
  /** The window this attempt opened on the account (taken back when a second step follows). */
  accountWindow: string | null;
}

/** Counts one attempt for `email` from `ip`, or says until when they must wait (nothing counted). */
export async function openGate(db: D1Database, email: string, ip: string | null, nowMs: number): Promise<SignInGate> {
  const account = accountSubject(email);
  const address = addressSubject(ip);
  const now = iso(nowMs);
  const counted = await countSignInAttempt(
    db,
    [
      { subject: account, windows: windowsAt(ACCOUNT_POLICY, nowMs) },
      { subject: address, windows: windowsAt(ADDRESS_POLICY, nowMs) },
    ],
    now,
    iso(nowMs - DAY_MS),
  );
  if (counted.length > 0) {
    const addressWindow = counted.find((row) => row.subject === address)?.blocked_until ?? null;
    const accountWindow = counted.find((row) => row.subject === account)?.blocked_until ?? null;
    return { retryAt: null, account, address, addressWindow, accountWindow };
  }
  const retryAt = await latestWindow(db, [account, address], nowMs);
  return { retryAt, account, address, addressWindow: null, accountWindow: null };
}

/** The end of the latest open window of `subjects` (a second from now if it just closed). */
async function latestWindow(db: D1Database, subjects: string[], nowMs: number): Promise<string> {
  const now = iso(nowMs);
  const ends = (await getSignInAttempts(db, subjects))
    .map((row: SignInAttemptRow) => row.blocked_until)
    .filter((until): until is string => until !== null && until > now)
    .sort();
  return ends.at(-1) ?? iso(nowMs + 1000);
}

/**
 * A success: the account's count is forgotten, and the address takes this attempt back (it may
 * be an office's, where others sign in too; a guesser's failures there stay counted).
 */
/**
 * A right password with a second step to come: the attempt is taken back on both subjects, so the
 * person's budget is spent only by wrong passwords and wrong codes (each code is counted by its
 * own gate), and the account's earlier failures stay: a right password buys no fresh guesses.
 */
export const takeBackAttemptStatements = (db: D1Database, gate: SignInGate): D1PreparedStatement[] => [
  uncountSignInAttemptStatement(db, gate.account, gate.accountWindow),
  uncountSignInAttemptStatement(db, gate.address, gate.addressWindow),
];

export const clearFailuresStatements = (db: D1Database, gate: SignInGate): D1PreparedStatement[] => [
  clearSignInAttemptsStatement(db, gate.account),
  uncountSignInAttemptStatement(db, gate.address, gate.addressWindow),
];
