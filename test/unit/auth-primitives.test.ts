// Pure parts of partner access: password hashing, sign-in throttle windows, CSV neutralising.
import { describe, expect, it } from 'vitest';
import { hashPassword, passwordProblem, verifyPassword } from '../../src/auth/password';
import { ACCOUNT_POLICY, ADDRESS_POLICY, MAX_WAIT_MS, waitAfter, windowsAt } from '../../src/auth/throttle';
import { csvCell, csvDocument } from '../../src/portal/csv';

describe('passwords', () => {
  it('hashes with PBKDF2-SHA256, 100,000 iterations and a per-user salt', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^pbkdf2-sha256\$100000\$[A-Za-z0-9_-]{20}\$[A-Za-z0-9_-]{44}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
  });

  it('refuses stored values it does not understand, and costs above the workerd cap', async () => {
    expect(await verifyPassword('x', 'plain')).toBe(false);
    expect(await verifyPassword('x', 'pbkdf2-sha256$200000$AAAA$AAAA')).toBe(false);
    expect(await verifyPassword('x', 'pbkdf2-sha256$1000$!!!!$AAAA')).toBe(false);
  });

  it('names what is wrong with a new password', () => {
    expect(passwordProblem('short', 'a@b.example')).toMatch(/at least 10/);
    expect(passwordProblem('a@b.example', 'A@B.example')).toMatch(/email/);
    expect(passwordProblem('long enough password', 'a@b.example')).toBeNull();
  });
});

describe('sign-in throttling', () => {
  it('lets the first failures through, then doubles the wait up to a cap', () => {
    expect(waitAfter(ACCOUNT_POLICY.free, ACCOUNT_POLICY)).toBe(0);
    expect(waitAfter(ACCOUNT_POLICY.free + 1, ACCOUNT_POLICY)).toBe(30_000);
    expect(waitAfter(ACCOUNT_POLICY.free + 2, ACCOUNT_POLICY)).toBe(60_000);
    expect(waitAfter(ACCOUNT_POLICY.free + 100, ACCOUNT_POLICY)).toBe(MAX_WAIT_MS);
    expect(waitAfter(ADDRESS_POLICY.free, ADDRESS_POLICY)).toBe(0);
  });

  it('never blocks for good: the window table ends with the capped window, which holds beyond it', () => {
    const now = Date.parse('2026-12-01T10:00:00Z');
    const windows = windowsAt(ACCOUNT_POLICY, now);
    const waits = windows.map((end) => (end === null ? 0 : Date.parse(end) - now));
    expect(waits).toEqual([0, 0, 0, 0, 0, 0, 30_000, 60_000, 120_000, 240_000, 480_000, MAX_WAIT_MS]);
    const address = windowsAt(ADDRESS_POLICY, now);
    expect(address.slice(0, ADDRESS_POLICY.free + 1)).toEqual(new Array(ADDRESS_POLICY.free + 1).fill(null));
    expect(address.at(-1)).toBe(new Date(now + MAX_WAIT_MS).toISOString());
  });
});

describe('CSV export', () => {
  it('neutralises cells a spreadsheet would run as formulas', () => {
    for (const evil of ['=HYPERLINK("http://x")', '+1+1', '-2+3', '@SUM(A1)', '\tcmd', '\rcmd']) {
      expect(csvCell(evil).replace(/^"/, '').startsWith("'")).toBe(true);
    }
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(null)).toBe('');
  });

  it('quotes commas, quotes and line breaks (RFC 4180)', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvDocument(['h1', 'h2'], [['=1', 'x\ny']])).toBe(`h1,h2\r\n'=1,"x\ny"\r\n`);
  });
});
