// Random bearer secrets (API keys, invitation tokens, session ids) and the hash they are stored
// and looked up by. 32 random bytes leave nothing to guess, so SHA-256 without a salt is enough
// (a password, chosen by a person, gets PBKDF2 instead: see password.ts).
import { randomBytes, sha256Hex, toBase64Url } from '../lib/crypto';

/** `prefix` + 43 base64url characters (256 bits). */
export const newSecret = (prefix = ''): string => prefix + toBase64Url(randomBytes(32));

export const hashSecret = (secret: string): Promise<string> => sha256Hex(secret);
